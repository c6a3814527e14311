import { trimOldest } from '@hexedge/protocol';

/**
 * Devices whose last uplink frame counter is kept: a fleet of this many heard devices. Past it, the
 * least recently heard device's counter goes first (its next uplink is then taken as it comes, as after
 * a restart); the dedup cache still drops redeliveries.
 */
export const DEFAULT_FCNT_DEVICES = 100_000;

/**
 * Each device's last processed uplink frame counter, so a replayed or reordered uplink is not
 * inferred again. Bounded (least recently heard first out), and a device's entry is dropped when it
 * is removed from the registry or rejoins: no entry outlives its device.
 */
export class FrameCounters {
  readonly #last = new Map<string, number>();
  readonly #maxDevices: number;

  constructor(options: { maxDevices: number }) {
    this.#maxDevices = options.maxDevices;
  }

  get size(): number {
    return this.#last.size;
  }

  /** The last counter when `fCnt` is not above it (refused, nothing kept); otherwise keeps `fCnt`. */
  accept(devEui: string, fCnt: number): { ok: true } | { ok: false; lastFCnt: number } {
    const last = this.#last.get(devEui);
    if (last !== undefined && fCnt <= last) return { ok: false, lastFCnt: last };
    // Re-inserted so the map's order is least recently heard first, what trimOldest drops.
    this.#last.delete(devEui);
    this.#last.set(devEui, fCnt);
    trimOldest(this.#last, this.#maxDevices);
    return { ok: true };
  }

  forget(devEui: string): void {
    this.#last.delete(devEui);
  }
}
