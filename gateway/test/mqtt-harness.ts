import { Placement } from '@hexedge/placement';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, inbox, mqttClient, requirePart, startMosquitto as startBroker } from '@hexedge/test-kit';
import {
  BrokerAccess,
  createGatewayApp,
  DeviceCredentials,
  type BrokerAdminUser,
  type DeviceRecord,
} from '../src/index.ts';
import { startMqttIngress, writeMosquittoFiles } from '../src/node/index.ts';
import { fakeNode, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

/** Test devices use few PBKDF2 iterations: the hashing is the same, only cheaper. */
export const TEST_ITERATIONS = 1_000;
export const DEVICE_PASSWORD = 'device-secret-1';

/** A gateway's insides without HTTP: placement with two fake nodes, keys, devices, broker access. */
export async function gatewayParts() {
  const placement = new Placement({ heartbeatIntervalMs: 60_000 });
  const near = await fakeNode('http://near.test');
  await register(placement, near, 52.3, 4.8);
  const nodes = fakeNodes([near]);
  const keys = await keyRing();
  const { service } = createGatewayApp({ placement, keys, nodeClient: nodes });
  const devices = new DeviceCredentials();
  for (const id of ['dev-a', 'dev-b'])
    await devices.add({ id, password: DEVICE_PASSWORD, iterations: TEST_ITERATIONS });
  await devices.add({
    id: 'dev-m-only',
    password: DEVICE_PASSWORD,
    models: ['other-model'],
    iterations: TEST_ITERATIONS,
  });
  const access = new BrokerAccess({ devices, keys });
  return { placement, near: near as FakeNode, nodes, keys, service, devices, access };
}

/**
 * The gateway's MQTT ingress on a v3.1.1 broker without shared subscriptions (aedes, or a relay in
 * front of it), logged in as the gateway with the test key; `connectStream` reaches the broker in
 * process, `password` tries another key.
 */
export function startTestIngress(
  parts: Awaited<ReturnType<typeof gatewayParts>>,
  options: {
    url: string;
    clientId: string;
    connectStream?: Parameters<typeof startMqttIngress>[0]['connectStream'];
    password?: string;
  },
) {
  return startMqttIngress({
    url: options.url,
    ...(options.connectStream ? { connectStream: options.connectStream } : {}),
    clientId: options.clientId,
    username: 'gateway',
    password: options.password ?? KEY,
    protocolVersion: 4,
    shareGroup: false,
    service: parts.service,
    principalOf: (id) => parts.access.principalOf(id),
  });
}

/**
 * Mosquitto for the real-broker tests: a missing one fails the file that needs it, unless
 * HEXEDGE_SKIP_REAL_PARTS=mosquitto opts out (then `mosquittoBinary` is undefined and those tests skip,
 * and the run reports it).
 */
const mosquittoPart = requirePart('mosquitto', import.meta.filename);
export const mosquittoBinary = mosquittoPart.path;

/** A real Mosquitto on a free 127.0.0.1 port, configured with the files `hexedge broker acl` writes. */
export async function startMosquitto(options: {
  devices: readonly DeviceRecord[];
  admins: readonly BrokerAdminUser[];
}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-mosquitto-'));
  const port = await freePort();
  // As root Mosquitto would drop to user `mosquitto`, which cannot read a private temp dir.
  const files = await writeMosquittoFiles({
    dir,
    ...options,
    port,
    host: '127.0.0.1',
    user: os.userInfo().username,
  });
  const proc = await startBroker({ binary: mosquittoBinary!, configFile: files.configFile, port });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    log: () => proc.lines.join('\n'),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test client: no reconnects, TCP_NODELAY like the ingress. */
export const client = mqttClient;
export { inbox };

export const inferBody = (extra: Record<string, unknown> = {}) => ({
  model: 'm',
  location: { lat: 52.37, lng: 4.9 },
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }],
  ...extra,
});

/** The fields tests read from an answer payload (success or error). */
export interface Answer {
  id: string;
  outputs: { data: number[] }[];
  node: { id: string };
  receipt: { body: { requestId: string } };
  error: { code: string; message: string; requestId: string };
}
