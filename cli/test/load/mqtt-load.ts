import mqtt from 'mqtt';

export interface MqttLoadResult {
  clients: number;
  sent: number;
  answered: number;
  /** Answers carrying `{ error }`, by error code (503 backpressure shows up as its code here). */
  errors: Record<string, number>;
  /** Published and never answered by the end (after a drain period). */
  unanswered: number;
  /** Answers whose outputs differ from `expectedOutputs` (an honest request answered wrongly). */
  wrong: number;
  latencyMs: { p50: number; p99: number; max: number };
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : 0);

/**
 * MQTT load on `hexedge dev`'s broker (Mosquitto, or the embedded aedes): `clients` connections (user
 * `admin` with the admin key as password, each its own client id), each keeping `inFlight` QoS 1 requests outstanding in the v3.1.1
 * request/response topic form, until `durationMs` has passed; then waits up to `drainMs` for the rest.
 */
export async function runMqttLoad(options: { url: string; apiKey: string; clients: number; inFlight: number; durationMs: number; drainMs: number; body: string; expectedOutputs?: string; runId?: string }): Promise<MqttLoadResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let sent = 0;
  let answered = 0;
  let wrong = 0;
  const pending = new Map<string, number>();
  const stopAtMs = Date.now() + options.durationMs;
  const run = async (index: number) => {
    const id = `load-${index}`;
    const client = await mqtt.connectAsync(options.url, { clientId: id, username: 'admin', password: options.apiKey, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    await client.subscribeAsync(`hexedge/v1/res/${id}/#`, { qos: 1 });
    let seq = 0;
    let wake: (() => void) | undefined;
    const sendOne = () => {
      // Unique per run: the ingress answers a repeated client + request id once (its dedupe window is 10 min).
      const requestId = `${options.runId ?? 'r'}${seq++}`;
      pending.set(`${id}/${requestId}`, performance.now());
      sent++;
      client.publish(`hexedge/v1/req/${id}/${requestId}`, options.body, { qos: 1 });
    };
    client.on('message', (topic, payload) => {
      const key = topic.slice('hexedge/v1/res/'.length);
      const startedAt = pending.get(key);
      if (startedAt === undefined) return;
      pending.delete(key);
      latencies.push(performance.now() - startedAt);
      const body = JSON.parse(payload.toString()) as { error?: { code: string }; outputs?: { data: unknown }[] };
      if (body.error) errors[body.error.code] = (errors[body.error.code] ?? 0) + 1;
      else answered++;
      if (!body.error && options.expectedOutputs !== undefined && JSON.stringify(body.outputs?.map((o) => o.data)) !== options.expectedOutputs) wrong++;
      if (Date.now() < stopAtMs) sendOne();
      wake?.();
    });
    for (let i = 0; i < options.inFlight; i++) sendOne();
    // Done sending at stopAtMs; then wait (bounded) for this client's outstanding answers.
    const drainUntil = stopAtMs + options.drainMs;
    while (Date.now() < drainUntil && (Date.now() < stopAtMs || [...pending.keys()].some((k) => k.startsWith(`${id}/`)))) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
    client.end(true);
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => run(i)));
  const sorted = latencies.sort((a, b) => a - b);
  return { clients: options.clients, sent, answered, errors, unanswered: pending.size, wrong, latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 } };
}
