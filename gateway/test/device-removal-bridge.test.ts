import { DeviceRegistry, demoFleetFile } from '@hexedge/firmware-bridge';
import { Placement } from '@hexedge/placement';
import { describe, expect, it } from 'vitest';
import { createGatewayBridge } from '../src/bridge/gateway-bridge.ts';
import { createGatewayApp } from '../src/index.ts';
import { KEY, keyRing } from './fake-nodes.ts';

const DEV_EUI = 'a84041000181c0ff';
const APP_ID = 'b4c3e2f1-0a9b-4c8d-9e7f-6a5b4c3d2e1f';

/** A ChirpStack v4 JSON uplink of the device with frame counter `fCnt`. */
const uplink = (fCnt: number) =>
  new TextEncoder().encode(
    JSON.stringify({
      deduplicationId: crypto.randomUUID(),
      time: '2025-03-01T11:59:59.512Z',
      deviceInfo: { applicationId: APP_ID, devEui: DEV_EUI, deviceClassEnabled: 'CLASS_A', tags: {} },
      devAddr: '00189440',
      dr: 5,
      fCnt,
      fPort: 85,
      data: btoa(String.fromCharCode(0x01, 0x67, 0x01, 0x10)),
      rxInfo: [],
      regionConfigId: 'eu868',
    }),
  );

describe('device routes and the bridge’s per-device state', () => {
  it('a device deleted or replaced over the API loses its frame counter in the bridge', async () => {
    const registry = new DeviceRegistry();
    const { app } = createGatewayApp({
      placement: new Placement({ heartbeatIntervalMs: 60_000 }),
      keys: await keyRing(),
      devices: registry,
    });
    const bridge = createGatewayBridge({
      registry,
      service: { infer: () => Promise.reject(new Error('no nodes in this test')) },
      publish: async () => {},
    });
    const call = (method: string, path: string, body?: unknown) =>
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    const { id: profileId, ...profile } = demoFleetFile().profiles!.find((p) => p.id === 'room-comfort-lpp')!;
    expect((await call('PUT', `/v1/profiles/${profileId}`, profile)).status).toBe(201);
    const device = { fleet: 'acme', profile: profileId };
    expect((await call('PUT', `/v1/devices/${DEV_EUI}`, device)).status).toBe(201);

    const topic = `application/${APP_ID}/device/${DEV_EUI}/event/up`;
    await bridge.handleMessage(topic, uplink(500));
    expect(bridge.trackedDevices).toBe(1);
    expect(await bridge.handleMessage(topic, uplink(3))).toMatchObject({ error: { code: 'FCNT_BACKWARDS' } });

    expect((await call('DELETE', `/v1/devices/${DEV_EUI}`)).status).toBe(204);
    expect(bridge.trackedDevices).toBe(0);

    expect((await call('PUT', `/v1/devices/${DEV_EUI}`, device)).status).toBe(201);
    await bridge.handleMessage(topic, uplink(500));
    expect(bridge.trackedDevices).toBe(1);
    // Replaced by a different record (another fleet): a re-provisioned device, its counter starts again.
    expect((await call('PUT', `/v1/devices/${DEV_EUI}`, { ...device, fleet: 'other' })).status).toBe(200);
    expect(bridge.trackedDevices).toBe(0);
    expect(await bridge.handleMessage(topic, uplink(3))).not.toMatchObject({
      error: { code: 'FCNT_BACKWARDS' },
    });
  });
});
