import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { waitUntil } from './wait.ts';

/** A test client: no reconnects, TCP_NODELAY like the ingress. */
export async function mqttClient(url: string, options: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3_000, ...options }, false);
  (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return c;
}

export interface Received {
  topic: string;
  /** The payload parsed as JSON, or its text. */
  payload: unknown;
  packet: IPublishPacket;
}

/** Collects a client's messages; `next(topic)` and `waitFor(predicate)` wait (bounded) for what is expected. */
export function inbox(c: MqttClient) {
  const got: Received[] = [];
  c.on('message', (topic, payload, packet) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString());
    } catch {
      parsed = payload.toString();
    }
    got.push({ topic, payload: parsed, packet });
  });
  const waitFor = (predicate: () => boolean, timeoutMs = 5_000) =>
    waitUntil(
      `MQTT messages (got ${got.length}: ${got
        .map((g) => g.topic)
        .slice(-5)
        .join(', ')})`,
      predicate,
      { timeoutMs, intervalMs: 10 },
    );
  return {
    got,
    waitFor,
    async next(topic: string, timeoutMs = 5_000): Promise<Received> {
      await waitFor(() => got.some((g) => g.topic === topic), timeoutMs);
      return got.find((g) => g.topic === topic)!;
    },
    count: (topic: string) => got.filter((g) => g.topic === topic).length,
  };
}
