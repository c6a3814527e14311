import { Placement } from '@hexedge/placement';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import {
  BrokerAccess,
  createGatewayApp,
  DeviceCredentials,
  type BrokerAdminUser,
  type DeviceRecord,
} from '../src/index.ts';
import { writeMosquittoFiles } from '../src/node/index.ts';
import { fakeNode, fakeNodes, keyRing, register, type FakeNode } from './fake-nodes.ts';

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

export const mosquittoBinary = [
  '/usr/sbin/mosquitto',
  '/usr/bin/mosquitto',
  '/usr/local/sbin/mosquitto',
].find((p) => existsSync(p));

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

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
  const child: ChildProcess = spawn(mosquittoBinary!, ['-c', files.configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 5_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`mosquitto did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    log: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test client: no reconnects, TCP_NODELAY like the ingress. */
export async function client(url: string, options: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3_000, ...options }, false);
  (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return c;
}

/** Collects messages per topic; `next(topic)` waits (bounded) for the next one. */
export function inbox(c: MqttClient) {
  const got: { topic: string; payload: unknown; packet: IPublishPacket }[] = [];
  const waiters: (() => void)[] = [];
  c.on('message', (topic, payload, packet) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString());
    } catch {
      parsed = payload.toString();
    }
    got.push({ topic, payload: parsed, packet });
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (predicate: () => boolean, timeoutMs = 3_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms; got ${got.map((g) => g.topic).join(', ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return {
    got,
    waitFor,
    async next(topic: string, timeoutMs = 3_000) {
      await waitFor(() => got.some((g) => g.topic === topic), timeoutMs);
      return got.find((g) => g.topic === topic)!;
    },
    count: (topic: string) => got.filter((g) => g.topic === topic).length,
  };
}

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
