import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFleetFile, SqliteDeviceStore } from '../src/adapters/node.ts';
import { demoFleetFile, DeviceRegistry, DEMO_DEVICES } from '../src/index.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'hexedge-fb-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('SqliteDeviceStore and fleet files', () => {
  it('persists devices and profiles loaded from a fleet file across restarts', async () => {
    const dir = tempDir();
    const fleetPath = join(dir, 'fleet.json');
    writeFileSync(fleetPath, JSON.stringify(demoFleetFile()));
    const store = new SqliteDeviceStore({ path: join(dir, 'bridge.db') });
    expect(await loadFleetFile({ registry: new DeviceRegistry({ store }), path: fleetPath })).toEqual({ profiles: 3, devices: 4 });
    store.close();

    const reopened = new SqliteDeviceStore({ path: join(dir, 'bridge.db') });
    const registry = new DeviceRegistry({ store: reopened });
    expect(registry.listDevices({ fleet: 'demo' })).toHaveLength(4);
    expect(registry.resolve(DEMO_DEVICES.vibration)?.profile.codec.kind).toBe('binary');
    registry.deleteDevice(DEMO_DEVICES.vibration);
    reopened.close();
    const again = new SqliteDeviceStore({ path: join(dir, 'bridge.db') });
    expect(new DeviceRegistry({ store: again }).getDevice(DEMO_DEVICES.vibration)).toBeUndefined();
    again.close();
  });

  it('a bad fleet file names the field and changes nothing', async () => {
    const dir = tempDir();
    const fleetPath = join(dir, 'fleet.json');
    const file = demoFleetFile();
    file.devices![2] = { ...file.devices![2]!, devEui: 'not-hex' };
    writeFileSync(fleetPath, JSON.stringify(file));
    const registry = new DeviceRegistry();
    await expect(loadFleetFile({ registry, path: fleetPath })).rejects.toThrow('fleet file: devices.2.devEui: must be 16 hex digits');
    expect(registry.listProfiles()).toHaveLength(0);
    writeFileSync(fleetPath, '{ nope');
    await expect(loadFleetFile({ registry, path: fleetPath })).rejects.toThrow(/is not JSON/);
  });
});
