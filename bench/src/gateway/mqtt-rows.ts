/**
 * MQTT rows of the gateway suite: inference through the embedded broker (aedes) + the gateway's MQTT
 * ingress + the node, against a bare echo responder on the same broker (mqtt-front.ts), with the same
 * closed-loop devices (mqtt-load.ts: MQTT_CLIENTS connections, one request in flight each, QoS 1).
 * Requests are the /v1/infer body (comfort-index, one reading) on `hexedge/v1/req/{clientId}/{id}`;
 * the echo gets the same payload on its own topic. Rounds interleave the two peers.
 */
import { interleave, pairRow, type InferenceRow } from '../inference/rounds.ts';
import { echoRequestTopic } from './mqtt-front.ts';
import { connectDevices, type MqttRoute } from './mqtt-load.ts';
import type { LatencyResult } from './load.ts';

export const MQTT_CLIENTS = 32;
const THROUGHPUT_GOAL = { text: '≥0.5× echo', met: (ratio: number) => ratio >= 0.5 };

const gatewayRoute: MqttRoute = {
  requestTopic: (clientId, id) => `hexedge/v1/req/${clientId}/${id}`,
  responseFilter: (clientId) => `hexedge/v1/res/${clientId}/+`,
  isOk: (payload) => !payload.subarray(0, 16).toString('utf8').startsWith('{"error"'),
};
const echoRoute: MqttRoute = {
  requestTopic: echoRequestTopic,
  responseFilter: (clientId) => `bench/echo/res/${clientId}/+`,
  isOk: () => true,
};

interface MqttRowsOptions {
  brokerUrl: string;
  password: string;
  payloads: readonly Uint8Array[];
  /** The front process's CPU clock (broker, ingress, gateway and echo responder live there). */
  frontCpuUs: () => Promise<number>;
  quick: boolean;
}

/**
 * Closed-loop rounds of the gateway's request topics (`subject`) and the echo responder on the same
 * broker, interleaved; per peer the rate per round, what each round saw and the front process's CPU
 * time per request. Warm-up rounds are dropped.
 */
async function measure(
  options: Omit<MqttRowsOptions, 'quick'> & {
    clients: number;
    rounds: number;
    warmUpRounds: number;
    durationMs: number;
  },
) {
  const { clients, rounds, warmUpRounds, durationMs } = options;
  const devices = await connectDevices({ brokerUrl: options.brokerUrl, clients, password: options.password });
  const seen: Record<'subject' | 'echo', LatencyResult[]> = { subject: [], echo: [] };
  const cpuUs: Record<'subject' | 'echo', number[]> = { subject: [], echo: [] };
  const peer = (name: 'subject' | 'echo', route: MqttRoute) => async () => {
    const cpu0 = await options.frontCpuUs();
    const r = await devices.run({ route, payloads: options.payloads, durationMs });
    cpuUs[name].push(((await options.frontCpuUs()) - cpu0) / r.count);
    seen[name].push(r);
    return r.rate;
  };
  try {
    const rates = await interleave({
      rounds,
      warmUpRounds,
      peers: { subject: peer('subject', gatewayRoute), echo: peer('echo', echoRoute) },
    });
    for (const k of ['subject', 'echo'] as const) {
      seen[k].splice(0, warmUpRounds);
      cpuUs[k].splice(0, warmUpRounds);
    }
    return { rates, seen, cpuUs };
  } finally {
    await devices.close();
  }
}

export async function mqttRows(options: MqttRowsOptions): Promise<InferenceRow[]> {
  const { quick } = options;
  const rows: InferenceRow[] = [];

  // The HTTP rows before these have warmed the gateway's shared path; the ingress and broker get a round more.
  const load = await measure({
    ...options,
    clients: MQTT_CLIENTS,
    rounds: quick ? 3 : 7,
    warmUpRounds: quick ? 1 : 2,
    durationMs: quick ? 1000 : 2500,
  });
  const c = MQTT_CLIENTS;
  rows.push(
    pairRow({
      name: `MQTT ${c} devices: broker + ingress + node vs echo`,
      unit: 'req/s',
      value: load.rates.subject,
      anchor: 'echo responder (same broker)',
      anchorValue: load.rates.echo,
      better: 'higher',
      goal: THROUGHPUT_GOAL,
    }),
  );
  rows.push(
    pairRow({
      name: `MQTT ${c} devices: round trip p50 vs echo`,
      unit: 'ms',
      value: load.seen.subject.map((r) => r.p50Ms),
      anchor: 'echo p50',
      anchorValue: load.seen.echo.map((r) => r.p50Ms),
      better: 'lower',
    }),
  );
  rows.push(
    pairRow({
      name: `MQTT ${c} devices: round trip p99 vs echo`,
      unit: 'ms',
      value: load.seen.subject.map((r) => r.p99Ms),
      anchor: 'echo p99',
      anchorValue: load.seen.echo.map((r) => r.p99Ms),
      better: 'lower',
    }),
  );
  // The front process holds the broker for both peers; what the gateway adds is the difference.
  rows.push(
    pairRow({
      name: `CPU per request of the gateway process (MQTT ${c} devices, broker included) vs echo`,
      unit: 'µs',
      value: load.cpuUs.subject,
      anchor: 'echo (same broker)',
      anchorValue: load.cpuUs.echo,
      better: 'lower',
    }),
  );

  const one = await measure({
    ...options,
    clients: 1,
    rounds: quick ? 4 : 11,
    warmUpRounds: 1,
    durationMs: quick ? 500 : 1000,
  });
  rows.push(
    pairRow({
      name: 'MQTT 1 device: round trip p50 vs echo',
      unit: 'ms',
      value: one.seen.subject.map((r) => r.p50Ms),
      anchor: 'echo p50',
      anchorValue: one.seen.echo.map((r) => r.p50Ms),
      better: 'lower',
    }),
  );
  rows.push(
    pairRow({
      name: 'MQTT 1 device: round trip p99 vs echo',
      unit: 'ms',
      value: one.seen.subject.map((r) => r.p99Ms),
      anchor: 'echo p99',
      anchorValue: one.seen.echo.map((r) => r.p99Ms),
      better: 'lower',
    }),
  );
  return rows;
}

/**
 * The MQTT layer alone (mqtt-layer.ts: a broker of its own in the front process with the gateway's
 * access hooks and its real ingress, answering from a stub infer service with a canned answer), against
 * the echo responder on that same broker, same devices, same rounds. Beside the rows above it tells
 * the layer's cost from the infer path's (placement, forward, node, receipt check), which the HTTP
 * rows measure too. `brokerUrl`: that broker, not the gateway's.
 */
export async function mqttLayerRows(options: MqttRowsOptions): Promise<InferenceRow[]> {
  const { quick } = options;
  const layer = await measure({
    ...options,
    clients: MQTT_CLIENTS,
    rounds: quick ? 3 : 5,
    warmUpRounds: 1,
    durationMs: quick ? 1000 : 2500,
  });
  const c = MQTT_CLIENTS;
  return [
    pairRow({
      name: `MQTT ${c} devices: broker + ingress (canned answer, no node) vs echo`,
      unit: 'req/s',
      value: layer.rates.subject,
      anchor: 'echo responder (same broker)',
      anchorValue: layer.rates.echo,
      better: 'higher',
    }),
    pairRow({
      name: `CPU per request of the gateway process (MQTT ${c} devices, broker + ingress, canned answer, no node) vs echo`,
      unit: 'µs',
      value: layer.cpuUs.subject,
      anchor: 'echo (same broker)',
      anchorValue: layer.cpuUs.echo,
      better: 'lower',
    }),
  ];
}
