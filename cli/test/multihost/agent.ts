// A client inside one host's network namespace (`ip netns exec NS node agent.ts`): the test runs in
// the root namespace, which has no address on the emulated network (by design), so it asks an agent
// to make each request from where that host is. Commands arrive as JSON lines on stdin, answers
// leave as JSON lines on stdout (`{ id, ok, result | error }`); the agent exits when stdin closes.
import mqtt from 'mqtt';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

/** Wall-clock ms with sub-ms resolution, comparable with the test process's `wallMs()`. */
const wallMs = () => performance.timeOrigin + performance.now();

interface FetchArgs {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
}

async function doFetch(a: FetchArgs) {
  const started = performance.now();
  const res = await fetch(a.url, {
    method: a.method ?? (a.body === undefined ? 'GET' : 'POST'),
    headers: { ...(a.body === undefined ? {} : { 'content-type': 'application/json' }), ...a.headers },
    ...(a.body === undefined ? {} : { body: JSON.stringify(a.body) }),
    signal: AbortSignal.timeout(a.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, elapsedMs: performance.now() - started };
}

/** TCP connect times (SYN → SYN-ACK: one round trip through the switch), each on a fresh socket. */
async function tcpRtt(a: { host: string; port: number; count: number }) {
  const rttsMs: number[] = [];
  for (let i = 0; i < a.count; i++) {
    rttsMs.push(
      await new Promise<number>((resolve, reject) => {
        const started = performance.now();
        const socket = connect({ host: a.host, port: a.port, timeout: 3_000 }, () => {
          const ms = performance.now() - started;
          socket.destroy();
          resolve(ms);
        });
        socket.once(
          'timeout',
          () => (socket.destroy(), reject(new Error(`connect to ${a.host}:${a.port} timed out`))),
        );
        socket.once('error', reject);
      }),
    );
  }
  return { rttsMs, minMs: Math.min(...rttsMs) };
}

/** Requests one after another for `durationMs`; each outcome with its wall-clock start (for failover timing). */
async function series(a: FetchArgs & { durationMs: number; gapMs: number }) {
  const results: Array<{
    startWallMs: number;
    elapsedMs: number;
    status: number;
    nodeId?: string;
    error?: string;
  }> = [];
  const endAt = performance.now() + a.durationMs;
  while (performance.now() < endAt) {
    const startWallMs = wallMs();
    const started = performance.now();
    try {
      const r = await doFetch(a);
      const body = r.body as { node?: { id?: string }; error?: { code: string; message: string } };
      results.push({
        startWallMs,
        elapsedMs: r.elapsedMs,
        status: r.status,
        ...(body.node?.id ? { nodeId: body.node.id } : {}),
        ...(body.error ? { error: `${body.error.code}: ${body.error.message}` } : {}),
      });
    } catch (err) {
      results.push({
        startWallMs,
        elapsedMs: performance.now() - started,
        status: 0,
        error: (err as Error).message,
      });
    }
    await new Promise((r) => setTimeout(r, a.gapMs));
  }
  return results;
}

/** One MQTT v5 request as a device makes it: Response Topic under its own id, Correlation Data echoed. */
async function mqttRequest(a: {
  url: string;
  deviceId: string;
  password: string;
  model: string;
  body: unknown;
  timeoutMs: number;
}) {
  const connectStarted = performance.now();
  const client = await mqtt.connectAsync(
    a.url,
    {
      clientId: a.deviceId,
      username: a.deviceId,
      password: a.password,
      protocolVersion: 5,
      connectTimeout: a.timeoutMs,
      reconnectPeriod: 0,
    },
    false,
  );
  try {
    const connectMs = performance.now() - connectStarted;
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    await client.subscribeAsync(`hexedge/v1/res/${a.deviceId}/#`, { qos: 1 });
    const correlation = `multihost-${Date.now()}`;
    const started = performance.now();
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no MQTT answer within ${a.timeoutMs} ms`)),
        a.timeoutMs,
      );
      client.on('message', (_topic, payload, packet) => {
        if (packet.properties?.correlationData?.toString() !== correlation) return;
        clearTimeout(timer);
        resolve(JSON.parse(payload.toString()));
      });
    });
    await client.publishAsync(`hexedge/v1/infer/${a.deviceId}/${a.model}`, JSON.stringify(a.body), {
      qos: 1,
      properties: {
        responseTopic: `hexedge/v1/res/${a.deviceId}/rr`,
        correlationData: Buffer.from(correlation),
      },
    });
    const body = await answer;
    return { connectMs, elapsedMs: performance.now() - started, body };
  } finally {
    await client.endAsync(true).catch(() => {});
  }
}

/**
 * ChirpStack's side of one uplink, as its MQTT integration does it: publish the uplink event and wait
 * for the downlink command the firmware bridge answers with on the device's `command/down` topic.
 */
async function chirpstackUplink(a: {
  url: string;
  username: string;
  password: string;
  applicationId: string;
  devEui: string;
  event: unknown;
  timeoutMs: number;
}) {
  const client = await mqtt.connectAsync(
    a.url,
    {
      clientId: `chirpstack-${a.devEui}`,
      username: a.username,
      password: a.password,
      protocolVersion: 5,
      connectTimeout: a.timeoutMs,
      reconnectPeriod: 0,
    },
    false,
  );
  try {
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    const down = `application/${a.applicationId}/device/${a.devEui}/command/down`;
    await client.subscribeAsync(down, { qos: 1 });
    const started = performance.now();
    const command = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no downlink within ${a.timeoutMs} ms`)), a.timeoutMs);
      client.on('message', (topic, payload) => {
        if (topic !== down) return;
        clearTimeout(timer);
        resolve(JSON.parse(payload.toString()));
      });
    });
    await client.publishAsync(
      `application/${a.applicationId}/device/${a.devEui}/event/up`,
      JSON.stringify(a.event),
      { qos: 1 },
    );
    const body = await command;
    return { elapsedMs: performance.now() - started, command: body };
  } finally {
    await client.endAsync(true).catch(() => {});
  }
}

const ops: Record<string, (args: never) => Promise<unknown>> = {
  chirpstackUplink,
  fetch: doFetch,
  tcpRtt,
  series,
  mqttRequest,
};

const out = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, op, args } = JSON.parse(line) as { id: number; op: string; args: never };
  const run = ops[op];
  if (!run) return out({ id, ok: false, error: `unknown op ${op}` });
  run(args).then(
    (result) => out({ id, ok: true, result }),
    (err: Error) => out({ id, ok: false, error: err.message ?? String(err) }),
  );
});
process.stdin.on('end', () => process.exit(0));
out({ ready: true });
