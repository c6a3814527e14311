import type { Device, Profile } from './profile-schema.ts';

/** Persistence of devices and profiles; SQLite on Node (adapters/node.ts), memory for tests. */
export interface DeviceStore {
  loadDevices(): Device[];
  saveDevice(device: Device): void;
  deleteDevice(devEui: string): void;
  loadProfiles(): Profile[];
  saveProfile(profile: Profile): void;
  deleteProfile(id: string): void;
}

/** Copies on the way in and out like a real store would. */
export class MemoryDeviceStore implements DeviceStore {
  readonly devices = new Map<string, Device>();
  readonly profiles = new Map<string, Profile>();

  loadDevices(): Device[] {
    return [...this.devices.values()].map((d) => structuredClone(d));
  }
  saveDevice(device: Device): void {
    this.devices.set(device.devEui, structuredClone(device));
  }
  deleteDevice(devEui: string): void {
    this.devices.delete(devEui);
  }
  loadProfiles(): Profile[] {
    return [...this.profiles.values()].map((p) => structuredClone(p));
  }
  saveProfile(profile: Profile): void {
    this.profiles.set(profile.id, structuredClone(profile));
  }
  deleteProfile(id: string): void {
    this.profiles.delete(id);
  }
}
