import { HexEdgeError, parseWith } from '@hexedge/protocol';
import type { Codec } from '../codecs/codec.ts';
import { makeCodec } from '../codecs/make-codec.ts';
import type { DeviceStore } from './device-store.ts';
import { MemoryDeviceStore } from './device-store.ts';
import { deviceSchema, fleetFileSchema, profileSchema, type Device, type Profile } from './profile-schema.ts';

export interface ResolvedDevice {
  device: Device;
  profile: Profile;
  codec: Codec;
}

/**
 * Devices by DevEUI and their profiles, validated on the way in, written through to a DeviceStore.
 * Codecs are built once per profile (a JS codec's source is checked when used, in the sandbox).
 */
export class DeviceRegistry {
  readonly #store: DeviceStore;
  readonly #devices = new Map<string, Device>();
  readonly #profiles = new Map<string, { profile: Profile; codec: Codec }>();

  constructor(options: { store?: DeviceStore } = {}) {
    this.#store = options.store ?? new MemoryDeviceStore();
    for (const p of this.#store.loadProfiles()) this.#profiles.set(p.id, { profile: p, codec: makeCodec(p.codec) });
    for (const d of this.#store.loadDevices()) this.#devices.set(d.devEui, d);
  }

  putProfile(input: unknown): Profile {
    const profile = parseWith(profileSchema, input, { what: 'profile' });
    this.#store.saveProfile(profile);
    this.#profiles.set(profile.id, { profile, codec: makeCodec(profile.codec) });
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
    if (users.length > 0) throw new HexEdgeError('INVALID_REQUEST', `profile '${id}' is used by ${users.length} device(s): ${users.slice(0, 5).join(', ')}`);
    this.#store.deleteProfile(id);
    return this.#profiles.delete(id);
  }

  putDevice(input: unknown): Device {
    const device = parseWith(deviceSchema, input, { what: 'device' });
    if (!this.#profiles.has(device.profile)) {
      throw new HexEdgeError('INVALID_REQUEST', `device: profile: no profile '${device.profile}' (known: ${[...this.#profiles.keys()].join(', ') || 'none'})`, { field: 'profile' });
    }
    this.#store.saveDevice(device);
    this.#devices.set(device.devEui, device);
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
    return this.#devices.delete(devEui.toLowerCase());
  }

  resolve(devEui: string): ResolvedDevice | undefined {
    const device = this.getDevice(devEui);
    const entry = device && this.#profiles.get(device.profile);
    return device && entry ? { device, profile: entry.profile, codec: entry.codec } : undefined;
  }

  /**
   * Applies a fleet file (profiles first, then devices). The whole file is validated before anything
   * is stored, so a bad file changes nothing.
   */
  loadFleet(input: unknown): { profiles: number; devices: number } {
    const file = parseWith(fleetFileSchema, input, { what: 'fleet file' });
    const known = new Set([...this.#profiles.keys(), ...file.profiles.map((p) => p.id)]);
    file.devices.forEach((d, i) => {
      if (!known.has(d.profile)) throw new HexEdgeError('INVALID_REQUEST', `fleet file: devices.${i}.profile: no profile '${d.profile}'`, { field: `devices.${i}.profile` });
    });
    for (const p of file.profiles) this.putProfile(p);
    for (const d of file.devices) this.putDevice(d);
    return { profiles: file.profiles.length, devices: file.devices.length };
  }
}
