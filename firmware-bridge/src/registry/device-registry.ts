import { HexEdgeError, parseWith } from '@hexedge/protocol';
import type { Codec } from '../codecs/codec.ts';
import type { CodecRunnerFactory } from '../codecs/codec-runner.ts';
import {
  closeProfileCodecs,
  makeProfileCodecs,
  warmProfileCodecs,
  type ProfileCodecs,
} from '../codecs/make-codec.ts';
import type { DeviceStore } from './device-store.ts';
import { MemoryDeviceStore } from './device-store.ts';
import { deviceSchema, fleetFileSchema, profileSchema, type Device, type Profile } from './profile-schema.ts';

export interface ResolvedDevice {
  device: Device;
  profile: Profile;
  codec: Codec;
  /** The encoders of the profile's downlink `encoding` and `fallback` when they are `codec` or `js`. */
  encoders: ProfileCodecs['encoders'];
}

/** A profile's codecs are rebuilt only when one of these changes: a JS codec's context is kept otherwise. */
const codecKey = (p: Profile) => JSON.stringify([p.codec, p.downlink?.encoding, p.downlink?.fallback]);

/**
 * Devices by DevEUI and their profiles, validated on the way in, written through to a DeviceStore.
 * Codecs are built once per profile (a JS codec's source is evaluated at its first use, once, and
 * kept until the profile's codec changes or the profile is deleted).
 */
export class DeviceRegistry {
  readonly #store: DeviceStore;
  readonly #runner: CodecRunnerFactory | undefined;
  readonly #warmCodecs: boolean;
  readonly #devices = new Map<string, Device>();
  readonly #profiles = new Map<string, { profile: Profile; codecs: ProfileCodecs }>();
  readonly #removedListeners = new Set<(devEui: string) => void>();

  /**
   * `codecRunner`: where JS codecs run; by default a worker thread per codec on Node, in process
   * elsewhere. `warmCodecs`: evaluate each JS codec as soon as its profile is loaded or stored (a
   * service's registry), not at its first uplink (tests, tools that build many registries).
   */
  constructor(options: { store?: DeviceStore; codecRunner?: CodecRunnerFactory; warmCodecs?: boolean } = {}) {
    this.#store = options.store ?? new MemoryDeviceStore();
    this.#runner = options.codecRunner;
    this.#warmCodecs = options.warmCodecs ?? false;
    for (const p of this.#store.loadProfiles())
      this.#profiles.set(p.id, { profile: p, codecs: this.#codecsFor(p) });
    for (const d of this.#store.loadDevices()) this.#devices.set(d.devEui, d);
  }

  #codecsFor(profile: Profile): ProfileCodecs {
    const codecs = makeProfileCodecs(profile, this.#runner ? { runner: this.#runner } : {});
    if (this.#warmCodecs) warmProfileCodecs(codecs);
    return codecs;
  }

  putProfile(input: unknown): Profile {
    const profile = parseWith(profileSchema, input, { what: 'profile' });
    this.#store.saveProfile(profile);
    const old = this.#profiles.get(profile.id);
    const same = old && codecKey(old.profile) === codecKey(profile);
    this.#profiles.set(profile.id, { profile, codecs: same ? old.codecs : this.#codecsFor(profile) });
    // The old codec's calls already made finish first; its worker goes after them.
    if (old && !same) void closeProfileCodecs(old.codecs).catch(() => {});
    return profile;
  }

  getProfile(id: string): Profile | undefined {
    return this.#profiles.get(id)?.profile;
  }

  listProfiles(): Profile[] {
    return [...this.#profiles.values()].map((p) => p.profile);
  }

  /** Refuses to delete a profile that devices still use: they would fail every uplink. */
  deleteProfile(id: string): boolean {
    const users = [...this.#devices.values()].filter((d) => d.profile === id).map((d) => d.devEui);
    if (users.length > 0)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `profile '${id}' is used by ${users.length} device(s): ${users.slice(0, 5).join(', ')}`,
      );
    this.#store.deleteProfile(id);
    const old = this.#profiles.get(id);
    if (old) void closeProfileCodecs(old.codecs).catch(() => {});
    return this.#profiles.delete(id);
  }

  putDevice(input: unknown): Device {
    const device = parseWith(deviceSchema, input, { what: 'device' });
    if (!this.#profiles.has(device.profile)) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `device: profile: no profile '${device.profile}' (known: ${[...this.#profiles.keys()].join(', ') || 'none'})`,
        { field: 'profile' },
      );
    }
    this.#store.saveDevice(device);
    const old = this.#devices.get(device.devEui);
    this.#devices.set(device.devEui, device);
    // A different record under the same DevEUI is a re-provisioned device: its old self is gone.
    if (old && JSON.stringify(old) !== JSON.stringify(device)) this.#removed(device.devEui);
    return device;
  }

  getDevice(devEui: string): Device | undefined {
    return this.#devices.get(devEui.toLowerCase());
  }

  listDevices(filter: { fleet?: string } = {}): Device[] {
    return [...this.#devices.values()].filter((d) => filter.fleet === undefined || d.fleet === filter.fleet);
  }

  deleteDevice(devEui: string): boolean {
    this.#store.deleteDevice(devEui.toLowerCase());
    const deleted = this.#devices.delete(devEui.toLowerCase());
    if (deleted) this.#removed(devEui.toLowerCase());
    return deleted;
  }

  /**
   * Calls `listener` with a device's DevEUI (lower case) when it is deleted or replaced by a different
   * record, so state kept per device elsewhere (the bridge's frame counters and windows) goes with it.
   * Returns the unsubscribe.
   */
  onDeviceRemoved(listener: (devEui: string) => void): () => void {
    this.#removedListeners.add(listener);
    return () => this.#removedListeners.delete(listener);
  }

  #removed(devEui: string): void {
    for (const listener of this.#removedListeners) listener(devEui);
  }

  resolve(devEui: string): ResolvedDevice | undefined {
    const device = this.getDevice(devEui);
    const entry = device && this.#profiles.get(device.profile);
    return device && entry
      ? { device, profile: entry.profile, codec: entry.codecs.codec, encoders: entry.codecs.encoders }
      : undefined;
  }

  /** Frees every profile's codecs (JS codec workers) at shutdown, after the calls already made. */
  async close(): Promise<void> {
    await Promise.all([...this.#profiles.values()].map((p) => closeProfileCodecs(p.codecs)));
  }

  /**
   * Applies a fleet file (profiles first, then devices). The whole file is validated before anything
   * is stored, so a bad file changes nothing.
   */
  loadFleet(input: unknown): { profiles: number; devices: number } {
    const file = parseWith(fleetFileSchema, input, { what: 'fleet file' });
    const known = new Set([...this.#profiles.keys(), ...file.profiles.map((p) => p.id)]);
    file.devices.forEach((d, i) => {
      if (!known.has(d.profile))
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `fleet file: devices.${i}.profile: no profile '${d.profile}'`,
          { field: `devices.${i}.profile` },
        );
    });
    for (const p of file.profiles) this.putProfile(p);
    for (const d of file.devices) this.putDevice(d);
    return { profiles: file.profiles.length, devices: file.devices.length };
  }
}
