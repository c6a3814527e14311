import type { StoredKeyPair } from '@hexedge/protocol';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEXEDGE_BIN, startDev, type DevProcess } from '@hexedge/test-kit';

/*
 * `hexedge dev`'s whole output (gateway, broker, oracle, edge node processes) during a session that
 * makes an app key, infers with it, fails to authenticate, and logs a device in over MQTT holds no
 * secret: not the admin key (beyond the one documented `ready` line that hands it to the developer),
 * not the app key, not a node's private key, not a device password.
 */

const API_KEY = 'sec-test-admin-key-7f3a9c';
const DEVICE_PASSWORD = 'device-pw-4d1e8b2c';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-seclog-'));
let dev: DevProcess;

beforeAll(async () => {
  execFileSync(process.execPath, [
    HEXEDGE_BIN,
    'broker',
    'device',
    'add',
    'sensor-7',
    '--password',
    DEVICE_PASSWORD,
    '--models',
    'comfort-index',
    '--devices',
    path.join(dataDir, 'gateway', 'devices.json'),
  ]);
  dev = await startDev([
    '--nodes',
    '1',
    '--port',
    '0',
    '--mqtt-port',
    '0',
    '--data-dir',
    dataDir,
    '--api-key',
    API_KEY,
    '--heartbeat-ms',
    '500',
  ]);
}, 120_000);

afterAll(async () => {
  if (dev?.child.exitCode === null) {
    const exited = new Promise((resolve) => dev.child.once('exit', resolve));
    dev.child.kill('SIGINT');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const api = async (pathname: string, key: string, init: RequestInit = {}) => {
  const res = await fetch(`${dev.gatewayUrl}${pathname}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('hexedge dev output', () => {
  it('holds no admin key (past the ready line), app key, node private key or device password', async () => {
    const created = await api('/v1/keys', API_KEY, {
      method: 'POST',
      body: JSON.stringify({ name: 'sec', models: ['comfort-index'] }),
    });
    const appKey = created.body.key as string;
    const infer = JSON.stringify({
      model: 'comfort-index',
      location: { lat: 52.37, lng: 4.9 },
      inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [22, 45, 600] }],
    });
    expect((await api('/v1/infer', appKey, { method: 'POST', body: infer })).status).toBe(200);
    expect((await api('/v1/infer', `${appKey}-wrong`, { method: 'POST', body: infer })).status).toBe(401);
    expect(
      (
        await api('/v1/infer', appKey, {
          method: 'POST',
          body: infer.replace('comfort-index', 'vibration-anomaly'),
        })
      ).status,
    ).toBe(403);

    // A device logs in with its password and asks; a wrong password is refused.
    const device = await mqtt.connectAsync(dev.mqttUrl, {
      clientId: 'sensor-7',
      username: 'sensor-7',
      password: DEVICE_PASSWORD,
      reconnectPeriod: 0,
    });
    const answered = new Promise<string>((resolve) =>
      device.on('message', (_t, payload) => resolve(payload.toString())),
    );
    await device.subscribeAsync('hexedge/v1/res/sensor-7/#', { qos: 1 });
    await device.publishAsync('hexedge/v1/req/sensor-7/1', infer, { qos: 1 });
    expect(await answered).toContain('comfort-index');
    await device.endAsync();
    await expect(
      mqtt.connectAsync(dev.mqttUrl, {
        clientId: 'sensor-7',
        username: 'sensor-7',
        password: `${DEVICE_PASSWORD}x`,
        reconnectPeriod: 0,
        connectTimeout: 3_000,
      }),
    ).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a few heartbeats and log lines more

    const nodeKeys = readdirSync(path.join(dataDir, 'nodes')).map(
      (city) =>
        (
          JSON.parse(
            readFileSync(path.join(dataDir, 'nodes', city, 'node-key.json'), 'utf8'),
          ) as StoredKeyPair
        ).privateKeyPkcs8,
    );
    expect(nodeKeys.length).toBe(1);
    const beyondReady = dev.lines.filter((l) => !/ready: gateway/.test(l));
    expect(dev.lines.length).toBeGreaterThan(3);
    const output = beyondReady.join('\n');
    for (const [what, secret] of [
      ['admin key', API_KEY],
      ['app key', appKey],
      ['node private key', nodeKeys[0]!],
      ['device password', DEVICE_PASSWORD],
    ] as const) {
      expect(output.includes(secret), `${what} appears in hexedge dev's output`).toBe(false);
    }
  });
});
