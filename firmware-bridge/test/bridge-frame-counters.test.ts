import { describe, expect, it } from 'vitest';
import { encode, newBridge, newRegistry, ROOM, ROOM_LPP, TRACKER, upTopic, uplinkJson } from './helpers.ts';

const uplink = (devEui: string, fCnt: number) => encode(uplinkJson({ devEui, fCnt, data: ROOM_LPP }));

describe('the bridge’s per-device frame counters', () => {
  it('forgets a deleted device’s counter: registered again, its first uplink is not judged by the old one', async () => {
    const registry = newRegistry();
    const t = newBridge({ registry });
    expect((await t.bridge.handleMessage(upTopic(ROOM), uplink(ROOM, 500))).status).toBe('result');
    expect(t.bridge.trackedDevices).toBe(1);
    const device = registry.getDevice(ROOM)!;
    registry.deleteDevice(ROOM);
    expect(t.bridge.trackedDevices).toBe(0);
    registry.putDevice(device);
    // A re-provisioned device counts from 0 again.
    expect((await t.bridge.handleMessage(upTopic(ROOM), uplink(ROOM, 1))).status).toBe('result');
  });

  it('forgets a device replaced by a different record, and keeps it when the same record is put again', async () => {
    const registry = newRegistry();
    const t = newBridge({ registry });
    await t.bridge.handleMessage(upTopic(ROOM), uplink(ROOM, 500));
    const device = registry.getDevice(ROOM)!;
    registry.putDevice({ ...device });
    expect(await t.bridge.handleMessage(upTopic(ROOM), uplink(ROOM, 3))).toMatchObject({
      error: { code: 'FCNT_BACKWARDS' },
    });
    registry.putDevice({ ...device, location: { lat: 52.1, lng: 4.3 } });
    expect(t.bridge.trackedDevices).toBe(0);
    expect((await t.bridge.handleMessage(upTopic(ROOM), uplink(ROOM, 3))).status).toBe('result');
  });

  it('keeps at most `fCntDevices` counters, the least recently heard forgotten first', async () => {
    const registry = newRegistry();
    const devices = Array.from({ length: 50 }, (_, i) => `0004a30b0100${String(i).padStart(4, '0')}`);
    for (const devEui of devices) registry.putDevice({ devEui, fleet: 'acme', profile: 'room-comfort' });
    const t = newBridge({ registry, fCntDevices: 10 });
    for (const devEui of devices) await t.bridge.handleMessage(upTopic(devEui), uplink(devEui, 100));
    await t.bridge.handleMessage(upTopic(ROOM), uplink(ROOM, 100));
    expect(t.bridge.trackedDevices).toBe(10);
    // The newest are still guarded; the oldest was forgotten (its next uplink is taken as it comes).
    expect(await t.bridge.handleMessage(upTopic(devices[49]!), uplink(devices[49]!, 99))).toMatchObject({
      error: { code: 'FCNT_BACKWARDS' },
    });
    expect((await t.bridge.handleMessage(upTopic(devices[0]!), uplink(devices[0]!, 99))).status).toBe(
      'result',
    );
    // Unknown devices are refused before they are counted.
    await t.bridge.handleMessage(upTopic(TRACKER.replace(/1$/, 'f')), uplink(TRACKER.replace(/1$/, 'f'), 1));
    expect(t.bridge.trackedDevices).toBe(10);
  });
});
