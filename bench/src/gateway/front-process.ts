/**
 * The two front ends under test, in one forked process of their own (the load generator keeps its own
 * event loop; only one of them is under load at a time, as the suite interleaves them):
 *  - the gateway as `hexedge gateway` and `hexedge dev` build it: `buildGateway` itself (SQLite state in
 *    a temp data dir, the origin catalogue from the node's models dir, the configured admin key, metrics,
 *    dashboards' observers, `PooledNodeClient`, signed forwards, the embedded broker with the MQTT
 *    ingress; no oracle, locations taken as verified, private node addresses allowed), so what is
 *    measured is what ships;
 *  - the bare undici reverse proxy (bare-proxy.ts), pointed at the node once it is known.
 * Parent → child over IPC: `{ type: 'proxy', nodeUrl }` → `{ proxyUrl }`; `{ type: 'cpu' }` →
 * `{ cpuUs }` (process.cpuUsage, to price a request in CPU time); `{ type: 'mqtt' }` → `{ brokerUrl }`
 * (the gateway's broker, with the echo responder on it, mqtt-front.ts); `{ type: 'mqtt-layer', answer }`
 * → `{ brokerUrl }` (a second broker with the ingress answering a canned answer, mqtt-layer.ts); `{ type: 'profile-start' }`,
 * `{ type: 'profile-stop', file }` (a CPU profile of the measured window only, profile-gateway.ts).
 */
import { buildGateway, type RunningGateway } from '@hexedge/gateway/node';
import { gatewayConfigSchema } from '@hexedge/gateway';
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startBareProxy, type BareProxy } from './bare-proxy.ts';
import { startMqttFront, type MqttFront } from './mqtt-front.ts';
import { startMqttLayer, type MqttLayer } from './mqtt-layer.ts';

export interface FrontConfig {
  apiKey: string;
  heartbeatIntervalMs: number;
  /** The gateway's state (SQLite files, report key). */
  dataDir: string;
  /** The origin catalogue (the node's models: requests are checked against their manifests). */
  modelsDir: string;
}

type Reply = { gatewayUrl?: string; proxyUrl?: string; cpuUs?: number; brokerUrl?: string; error?: string };

export interface FrontProcess {
  gatewayUrl: string;
  startProxy(nodeUrl: string): Promise<string>;
  /** Ready nodes serving `model` near the place (GET /v1/nodes/nearest), to wait for the node. */
  candidateCount(query: { model: string; lat: number; lng: number }): Promise<number>;
  /** CPU time the process has used so far (user + system, all its threads), in µs. */
  cpuUs(): Promise<number>;
  /** Starts the echo responder on the gateway's broker (mqtt-front.ts); the broker's URL. */
  startMqtt(): Promise<string>;
  /**
   * Starts the MQTT layer alone (mqtt-layer.ts: its own embedded broker, the ingress answering
   * `answer`, the InferResponse JSON, and an echo responder); that broker's URL.
   */
  startMqttLayer(answer: string): Promise<string>;
  /** A CPU profile of the front process (V8's sampler, every 200 µs) from `profileStart` to `profileStop(file)`. */
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<void>;
  close(): Promise<void>;
}

export function startFrontProcess(
  config: FrontConfig,
  options: { execArgv?: string[] } = {},
): Promise<FrontProcess> {
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
        candidateCount: async (q) => {
          const res = await fetch(
            `${m.gatewayUrl}/v1/nodes/nearest?lat=${q.lat}&lng=${q.lng}&model=${encodeURIComponent(q.model)}`,
            { headers: { authorization: `Bearer ${config.apiKey}` } },
          );
          const { nodes } = (await res.json()) as { nodes: { models: { name: string; ready: boolean }[] }[] };
          return nodes.filter((n) => n.models.some((mm) => mm.name === q.model && mm.ready)).length;
        },
        cpuUs: async () => (await ask({ type: 'cpu' })).cpuUs!,
        startMqtt: async () => (await ask({ type: 'mqtt' })).brokerUrl!,
        startMqttLayer: async (answer) => (await ask({ type: 'mqtt-layer', answer })).brokerUrl!,
        profileStart: async () => void (await ask({ type: 'profile-start' })),
        profileStop: async (file) => void (await ask({ type: 'profile-stop', file })),
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
  const stop = new AbortController();
  const gateway: RunningGateway = await buildGateway(
    gatewayConfigSchema.parse({
      host: '127.0.0.1',
      port: 0,
      dataDir: config.dataDir,
      modelsDir: config.modelsDir,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      assumeLocationsVerified: true,
      // The bench's node listens on 127.0.0.1: private node addresses are allowed here on purpose.
      allowPrivateNodeAddresses: true,
      // As `hexedge dev`: aedes (MQTT 3.1.1, no shared subscriptions), the ingress unshared, no ChirpStack bridge.
      embeddedBroker: { host: '127.0.0.1', port: 0 },
      mqtt: {
        clientId: 'hexedge-bench-gateway',
        protocolVersion: 4,
        shared: false,
        chirpstack: { enabled: false },
      },
    }),
    { adminKey: config.apiKey },
    { signal: stop.signal, log: (line) => console.log(`[gateway] ${line}`) },
  );
  process.send!({ gatewayUrl: gateway.url });
  let proxy: BareProxy | undefined;
  let mqttFront: MqttFront | undefined;
  let mqttLayer: MqttLayer | undefined;
  let profiler: Session | undefined;
  process.on('message', (m: { type: string; nodeUrl?: string; file?: string; answer?: string }) => {
    void (async () => {
      try {
        if (m.type === 'proxy') {
          proxy ??= await startBareProxy({ nodeUrl: m.nodeUrl! });
          process.send!({ proxyUrl: proxy.url });
        } else if (m.type === 'mqtt') {
          mqttFront ??= await startMqttFront({ brokerUrl: gateway.brokerUrl!, password: config.apiKey });
          process.send!({ brokerUrl: mqttFront.brokerUrl });
        } else if (m.type === 'mqtt-layer') {
          mqttLayer ??= await startMqttLayer({ password: config.apiKey, answer: m.answer! });
          process.send!({ brokerUrl: mqttLayer.brokerUrl });
        } else if (m.type === 'profile-start') {
          profiler ??= new Session();
          profiler.connect();
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
          await profiler.post('Profiler.start');
          process.send!({});
        } else if (m.type === 'profile-stop') {
          const { profile } = await profiler!.post('Profiler.stop');
          writeFileSync(m.file!, JSON.stringify(profile));
          profiler!.disconnect();
          process.send!({});
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
      await mqttLayer?.close().catch(() => {});
      await mqttFront?.close().catch(() => {});
      await proxy?.close();
      await gateway.stop().catch(() => {});
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
