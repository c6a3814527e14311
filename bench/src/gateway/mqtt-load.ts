/**
 * Closed-loop MQTT clients: `clients` device connections (MQTT 3.1.1, QoS 1, TCP no-delay), each with
 * one request in flight: publish on the request topic, wait for the answer on its response topic, send
 * the next. The round trip is publish → answer received. Request ids are unique across the run (the
 * gateway treats a repeated id as a retry and replays the first answer).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { percentile } from '../report.ts';
import type { LatencyResult } from './load.ts';

export interface MqttRoute {
  requestTopic: (clientId: string, id: string) => string;
  responseFilter: (clientId: string) => string;
  /** The answer must look like success (the gateway answers errors on the same topic). */
  isOk: (payload: Buffer) => boolean;
}

export interface MqttDevices {
  run(options: {
    route: MqttRoute;
    payloads: readonly Uint8Array[];
    durationMs: number;
  }): Promise<LatencyResult>;
  close(): Promise<void>;
}

let runSeq = 0;

/** `password`: the gateway's admin key (the embedded broker takes API keys as passwords). */
export async function connectDevices(options: {
  brokerUrl: string;
  clients: number;
  password: string;
}): Promise<MqttDevices> {
  const devices: MqttClient[] = [];
  for (let i = 0; i < options.clients; i++) {
    const c = await mqtt.connectAsync(options.brokerUrl, {
      clientId: `bench-dev-${i}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      clean: true,
      username: 'bench',
      password: options.password,
    });
    (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    devices.push(c);
  }
  const waiting = new Map<string, (payload: Buffer) => void>();
  for (const c of devices)
    c.on('message', (topic, payload) => waiting.get(topic.slice(topic.lastIndexOf('/') + 1))?.(payload));
  const subscribed = new Set<string>();

  return {
    async run({ route, payloads, durationMs }) {
      for (const c of devices) {
        const filter = route.responseFilter(c.options.clientId!);
        if (!subscribed.has(filter)) await c.subscribeAsync(filter, { qos: 1 });
        subscribed.add(filter);
      }
      const run = ++runSeq;
      const ms: number[] = [];
      let n = 0;
      const t0 = performance.now();
      const end = t0 + durationMs;
      const loop = async (c: MqttClient) => {
        const clientId = c.options.clientId!;
        while (performance.now() < end) {
          const id = `r${run}-${n}`;
          const payload = payloads[n++ % payloads.length]!;
          const t = performance.now();
          const answer = new Promise<Buffer>((resolve) => waiting.set(id, resolve));
          await c.publishAsync(route.requestTopic(clientId, id), Buffer.from(payload), { qos: 1 });
          const got = await answer;
          waiting.delete(id);
          if (!route.isOk(got))
            throw new Error(`MQTT request ${id} failed: ${got.toString('utf8').slice(0, 300)}`);
          ms.push(performance.now() - t);
        }
      };
      await Promise.all(devices.map(loop));
      const sorted = Float64Array.from(ms).sort();
      return {
        count: ms.length,
        rate: ms.length / ((performance.now() - t0) / 1000),
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
    },
    async close() {
      await Promise.all(devices.map((c) => c.endAsync(true)));
    },
  };
}
