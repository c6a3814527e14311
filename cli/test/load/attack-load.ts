import { DeviceCredentials } from '@hexedge/gateway';
import { FileDeviceStore } from '@hexedge/gateway/node';
import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { Agent, request } from 'node:http';
import { nodeInit } from '../../src/commands/node-init.ts';

/**
 * The attackers of `npm run test:load -- --attack`, each bounded and stopped by a signal:
 * - a black-hole node (test/attacks/black-hole-node.ts) at the load's request location, claiming 0 ms
 *   and answering every request with a 400;
 * - a spoofing device on the broker: logs in under an honest load client's id, subscribes to
 *   the request topics, publishes into the honest clients' request topics (each refused);
 * - a registration flood from another loopback address (127.0.0.2): fresh identities, signed, as fast
 *   as 8 connections go.
 */
export const SPOOFER_ID = 'spoofer-1';
const SPOOFER_PASSWORD = 'spoofer-device-secret';

/** Adds the spoofing device to `hexedge dev`'s device file before it starts (it reads it at start). */
export async function addSpoofingDevice(devDataDir: string): Promise<void> {
  const dir = path.join(devDataDir, 'gateway');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await new DeviceCredentials({ store: new FileDeviceStore(path.join(dir, 'devices.json')) }).add({ id: SPOOFER_ID, password: SPOOFER_PASSWORD, iterations: 1_000 });
}

export async function startBlackHole(options: { dir: string; gatewayUrl: string; modelsDir: string; place: { lat: number; lng: number } }): Promise<{ child: ChildProcess; nodeId: string; url: string }> {
  const dataDir = path.join(options.dir, 'black-hole');
  const { nodeId } = await nodeInit({ dataDir, ...options.place, gatewayUrl: options.gatewayUrl });
  const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../attacks/black-hole-node.ts'), '--data-dir', dataDir, '--models-dir', options.modelsDir, '--gateway', options.gatewayUrl, '--lat', String(options.place.lat), '--lng', String(options.place.lng)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('black-hole node not ready in 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`black-hole node exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /serving OIP v2 on (\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve(m[1]!);
    });
  });
  return { child, nodeId, url };
}

/** The spoofing device's loop until `signal`: counts each attempt and what the broker let through. */
export async function runSpoofer(options: { mqttUrl: string; victims: string[]; signal: AbortSignal; protocolVersion: 4 | 5 }) {
  const stats = { attempts: 0, takeoverConnected: 0, subscriptionsGranted: 0, spoofsAccepted: 0 };
  const login = (clientId: string) => mqtt.connectAsync(options.mqttUrl, { clientId, username: SPOOFER_ID, password: SPOOFER_PASSWORD, protocolVersion: options.protocolVersion, reconnectPeriod: 0, connectTimeout: 3_000 });
  let n = 0;
  while (!options.signal.aborted) {
    const victim = options.victims[n++ % options.victims.length]!;
    stats.attempts++;
    const taken = await login(victim).catch(() => undefined);
    if (taken) {
      stats.takeoverConnected++;
      taken.end(true);
    }
    const own = await login(SPOOFER_ID).catch(() => undefined);
    if (own) {
      const granted = await own.subscribeAsync(['hexedge/v1/req/+/+'], { qos: 1 }).catch(() => []);
      stats.subscriptionsGranted += granted.filter((g) => g.qos === 0 || g.qos === 1).length;
      // A refused publish: a negative PUBACK on MQTT v5 (Mosquitto), which rejects the publish; on 3.1.1
      // (aedes) the broker drops the connection, as 3.1.1 has no negative PUBACK.
      const ok = await Promise.race([own.publishAsync(`hexedge/v1/req/${victim}/r${n}`, '{}', { qos: 1 }).then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
      if (ok && own.connected) stats.spoofsAccepted++;
      own.end(true);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return stats;
}

/** Signed registrations of fresh identities, made ahead (each valid for 60 s), posted at `perSecond` until `signal`. */
export async function prepareRegistrationFlood(options: { count: number }) {
  const messages: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const node = await generateNodeKeyPair();
    const body = {
      nodeId: node.nodeId,
      issuedAtMs: Date.now(),
      url: `http://127.0.0.1:${10_000 + (i % 50_000)}`,
      location: { lat: 50.11, lng: 8.68 },
      hardware: { cpuCores: 64, memoryMb: 65_536, executionProviders: ['cpu' as const] },
      models: [],
    };
    messages.push(JSON.stringify(await signBody('registration', body, node.privateKey)));
  }
  return async (o: { gatewayUrl: string; signal: AbortSignal; connections: number; perSecond: number }) => {
    // Another source address than the honest nodes' (127.0.0.1): the per-IP limit is the flood's own.
    const agent = new Agent({ keepAlive: true, maxSockets: o.connections, localAddress: '127.0.0.2' } as ConstructorParameters<typeof Agent>[0]);
    const url = new URL('/v1/nodes/register', o.gatewayUrl);
    const post = (body: string) =>
      new Promise<number>((resolve) => {
        const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', () => resolve(0));
        req.end(body);
      });
    const codes: Record<string, number> = {};
    let next = 0;
    const startedAtMs = Date.now();
    const worker = async () => {
      while (!o.signal.aborted) {
        const i = next++;
        if (i >= messages.length) break;
        // Paced: the i-th message goes at i / perSecond (a flood the gateway must shed, not a CPU race on this machine).
        const dueMs = startedAtMs + (i / o.perSecond) * 1000;
        if (dueMs > Date.now()) await new Promise((r) => setTimeout(r, dueMs - Date.now()));
        if (o.signal.aborted) break;
        const status = String(await post(messages[i]!));
        codes[status] = (codes[status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: o.connections }, worker));
    agent.destroy();
    return { sent: Object.values(codes).reduce((a, b) => a + b, 0), codes };
  };
}
