import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HexEdgeError } from '@hexedge/protocol';
import type { DeviceRecord, DeviceStore } from '../mqtt/device-credentials.ts';

/**
 * Device credentials in one JSON file (`{ "devices": [DeviceRecord…] }`, hashes only, mode 0600):
 * what `hexedge broker device add` writes and `hexedge dev` / `hexedge broker acl` read, until the
 * firmware-bridge's device registry takes over.
 */
export class FileDeviceStore implements DeviceStore {
  readonly #file: string;
  readonly #records = new Map<string, DeviceRecord>();

  constructor(file: string) {
    this.#file = file;
    if (!existsSync(file)) return;
    let parsed: { devices?: DeviceRecord[] };
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as { devices?: DeviceRecord[] };
    } catch (err) {
      throw new HexEdgeError(
        'INVALID_JSON',
        `device file ${file} is not valid JSON: ${(err as Error).message}`,
      );
    }
    for (const r of parsed.devices ?? []) {
      if (typeof r?.id !== 'string' || typeof r.passwordHash !== 'string')
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `device file ${file} has an entry without id or passwordHash`,
        );
      this.#records.set(r.id, r);
    }
  }

  get(id: string) {
    return this.#records.get(id);
  }

  put(record: DeviceRecord) {
    this.#records.set(record.id, record);
    mkdirSync(path.dirname(this.#file), { recursive: true, mode: 0o700 });
    const temp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ devices: this.list() }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.#file);
  }

  list() {
    return [...this.#records.values()];
  }
}
