import { readFile } from 'node:fs/promises';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { HexEdgeError } from '@hexedge/protocol';
import type { Device, DeviceRegistry, DeviceStore, Profile } from '../index.ts';

export {
  KILL_GRACE_MS,
  MAX_WAITING_CALLS,
  workerCodecRunner,
  WorkerCodecRunner,
} from '../node/worker-codec-runner.ts';

/**
 * DeviceStore on SQLite (`node:sqlite`). Rows hold the validated JSON; the registry re-validates
 * nothing on load because only validated values are ever written. WAL + synchronous=FULL as in
 * placement's store: a device registered over the API must survive a power cut.
 */
export class SqliteDeviceStore implements DeviceStore {
  readonly #db: DatabaseSync;
  readonly #saveDevice: StatementSync;
  readonly #deleteDevice: StatementSync;
  readonly #saveProfile: StatementSync;
  readonly #deleteProfile: StatementSync;

  constructor(options: { path: string }) {
    this.#db = new DatabaseSync(options.path);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS bridge_profiles (id TEXT PRIMARY KEY, profile TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS bridge_devices (dev_eui TEXT PRIMARY KEY, fleet TEXT NOT NULL, device TEXT NOT NULL) STRICT;
    `);
    this.#saveDevice = this.#db.prepare(
      'INSERT OR REPLACE INTO bridge_devices (dev_eui, fleet, device) VALUES (?, ?, ?)',
    );
    this.#deleteDevice = this.#db.prepare('DELETE FROM bridge_devices WHERE dev_eui = ?');
    this.#saveProfile = this.#db.prepare(
      'INSERT OR REPLACE INTO bridge_profiles (id, profile) VALUES (?, ?)',
    );
    this.#deleteProfile = this.#db.prepare('DELETE FROM bridge_profiles WHERE id = ?');
  }

  loadDevices(): Device[] {
    return this.#db
      .prepare('SELECT device FROM bridge_devices ORDER BY dev_eui')
      .all()
      .map((r) => JSON.parse(r.device as string) as Device);
  }
  saveDevice(device: Device): void {
    this.#saveDevice.run(device.devEui, device.fleet, JSON.stringify(device));
  }
  deleteDevice(devEui: string): void {
    this.#deleteDevice.run(devEui);
  }
  loadProfiles(): Profile[] {
    return this.#db
      .prepare('SELECT profile FROM bridge_profiles ORDER BY id')
      .all()
      .map((r) => JSON.parse(r.profile as string) as Profile);
  }
  saveProfile(profile: Profile): void {
    this.#saveProfile.run(profile.id, JSON.stringify(profile));
  }
  deleteProfile(id: string): void {
    this.#deleteProfile.run(id);
  }
  close(): void {
    this.#db.close();
  }
}

/** Applies a fleet file kept in git (`{ profiles, devices }`); a bad file changes nothing. */
export async function loadFleetFile(options: {
  registry: DeviceRegistry;
  path: string;
}): Promise<{ profiles: number; devices: number }> {
  const text = await readFile(options.path, 'utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HexEdgeError(
      'INVALID_JSON',
      `fleet file ${options.path} is not JSON: ${(err as Error).message}`,
    );
  }
  return options.registry.loadFleet(body);
}
