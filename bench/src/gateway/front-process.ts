/**
 * The two front ends under test, in one forked process of their own (the load generator keeps its own
 * event loop; only one of them is under load at a time, as the suite interleaves them):
 *  - the gateway as `hexedge dev` composes it: in-memory Placement (locations taken as verified), a
 *    KeyRing with one adopted admin key, PooledNodeClient, `createGatewayApp`, @hono/node-server on
 *    127.0.0.1, request logging off;
 *  - the bare undici reverse proxy (bare-proxy.ts), pointed at the node once it is known.
 * Parent → child over IPC: `{ type: 'proxy', nodeUrl }` → `{ proxyUrl }`; `{ type: 'candidates',
 * model, lat, lng }` → `{ count }` (placement's failover list length, to wait for the node);
 * `{ type: 'cpu' }` → `{ cpuUs }` (process.cpuUsage, to price a request in CPU time); `{ type: 'mqtt' }`
 * → `{ brokerUrl }` (broker, MQTT ingress and echo responder, mqtt-front.ts).
 */
import { serve } from '@hono/node-server';
import { createGatewayApp, KeyRing, MemoryKeyStore } from '@hexedge/gateway';
import { generateNodeKeyPair } from '@hexedge/protocol';
import { PooledNodeClient } from '@hexedge/gateway/node';
import { Placement } from '@hexedge/placement';
import { fork, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { startBareProxy, type BareProxy } from './bare-proxy.ts';
import { startMqttFront, type MqttFront } from './mqtt-front.ts';

export interface FrontConfig {
  apiKey: string;
  heartbeatIntervalMs: number;
}

type Reply = { gatewayUrl?: string; proxyUrl?: string; count?: number; cpuUs?: number; brokerUrl?: string; error?: string };

export interface FrontProcess {
  gatewayUrl: string;
  startProxy(nodeUrl: string): Promise<string>;
  candidateCount(query: { model: string; lat: number; lng: number }): Promise<number>;
  /** CPU time the process has used so far (user + system, all its threads), in µs. */
  cpuUs(): Promise<number>;
  /** Starts the broker, the gateway's MQTT ingress and the echo responder (mqtt-front.ts). */
  startMqtt(): Promise<string>;
  close(): Promise<void>;
}

export function startFrontProcess(config: FrontConfig, options: { execArgv?: string[] } = {}): Promise<FrontProcess> {
  const child: ChildProcess = fork(import.meta.filename, [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...(options.execArgv ?? [])],
  });
  const ask = (message: object) =>
    new Promise<Reply>((resolve, reject) => {
      child.once('message', (m: Reply) => (m.error ? reject(new Error(m.error)) : resolve(m)));
      child.send(message);
    });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`front process exited with ${code} before serving`)));
    child.once('message', (m: Reply) => {
      if (!m.gatewayUrl) return reject(new Error(`front process failed: ${m.error}`));
      child.removeAllListeners('exit');
      resolve({
        gatewayUrl: m.gatewayUrl,
        startProxy: async (nodeUrl) => (await ask({ type: 'proxy', nodeUrl })).proxyUrl!,
        candidateCount: async (q) => (await ask({ type: 'candidates', ...q })).count!,
        cpuUs: async () => (await ask({ type: 'cpu' })).cpuUs!,
        startMqtt: async () => (await ask({ type: 'mqtt' })).brokerUrl!,
        close: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.disconnect();
          }),
      });
    });
  });
}

async function main(config: FrontConfig): Promise<void> {
  const placement = new Placement({ heartbeatIntervalMs: config.heartbeatIntervalMs, assumeLocationsVerified: true });
  const keys = new KeyRing({ store: new MemoryKeyStore() });
  await keys.adopt(config.apiKey, { name: 'bench admin', role: 'admin' });
  // The bench's nodes listen on 127.0.0.1: private node addresses are allowed here on purpose.
  const nodeClient = new PooledNodeClient({ allowPrivateAddresses: true });
  // The gateway signs every forwarded request with its report key, published at /v1/gateway/identity
  // (where the node learns it), as buildGateway wires it.
  const forwardKeys = await generateNodeKeyPair();
  const { app, service } = createGatewayApp({ placement, keys, nodeClient, nodeUrls: { allowPrivate: true }, forwardKeys, reporterId: forwardKeys.nodeId });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
    process.send!({ gatewayUrl: `http://127.0.0.1:${info.port}` });
  });
  let proxy: BareProxy | undefined;
  let mqttFront: MqttFront | undefined;
  process.on('message', (m: { type: string; nodeUrl?: string; model?: string; lat?: number; lng?: number }) => {
    void (async () => {
      try {
        if (m.type === 'proxy') {
          proxy ??= await startBareProxy({ nodeUrl: m.nodeUrl! });
          process.send!({ proxyUrl: proxy.url });
        } else if (m.type === 'candidates') {
          const list = placement.candidates({ location: { lat: m.lat!, lng: m.lng! }, model: m.model! });
          process.send!({ count: list.filter((c) => c.model.ready).length });
        } else if (m.type === 'mqtt') {
          mqttFront ??= await startMqttFront({ service });
          process.send!({ brokerUrl: mqttFront.brokerUrl });
        } else if (m.type === 'cpu') {
          const { user, system } = process.cpuUsage();
          process.send!({ cpuUs: user + system });
        }
      } catch (err) {
        process.send!({ error: (err as Error).stack ?? String(err) });
      }
    })();
  });
  process.on('disconnect', () => {
    // Close in reverse order; exit even if a socket lingers (the bench is done with us).
    void (async () => {
      await mqttFront?.close().catch(() => {});
      await proxy?.close();
      server.close();
      await nodeClient.close();
      process.exit(0);
    })();
  });
}

if (process.argv[1] === import.meta.filename && process.send) {
  main(JSON.parse(process.argv[2]!) as FrontConfig).catch((err: Error) => {
    process.send!({ error: err.stack ?? err.message });
    process.exit(1);
  });
}
