import { bytesToBase64Url, sha256 } from '@hexedge/protocol';

/** Epochs are fixed slices of time from the Unix epoch: epoch n covers [n × epochMs, (n + 1) × epochMs). */
export class EpochClock {
  readonly epochMs: number;

  constructor(epochMs: number) {
    this.epochMs = epochMs;
  }

  epochOf(atMs: number): number {
    return Math.floor(atMs / this.epochMs);
  }

  boundsOf(epoch: number): { startMs: number; endMs: number } {
    return { startMs: epoch * this.epochMs, endMs: (epoch + 1) * this.epochMs };
  }
}

/**
 * The spot-check sampling seed of an epoch: SHA-256(secret ‖ "sampling" ‖ epoch), base64url. Derived
 * rather than stored, so a restart samples the same receipts; published with the epoch's manifest.
 */
export async function samplingSeedFor(options: { secret: Uint8Array; epoch: number }): Promise<string> {
  const label = new TextEncoder().encode(`sampling:${options.epoch}`);
  const input = new Uint8Array(options.secret.length + label.length);
  input.set(options.secret, 0);
  input.set(label, options.secret.length);
  return bytesToBase64Url(await sha256(input));
}
