import { GatewayAgent } from '@hexedge/edge-node';
import { loadNodeKey, readModelDir } from '@hexedge/edge-node/node';
import { listenHttp } from '@hexedge/protocol/node';
import { Hono } from 'hono';
import { parseArgs } from 'node:util';

/**
 * What a black-hole operator runs, as its own process: it registers the models it was given (read
 * from a models directory) as ready with a 0 ms service time and an empty queue, so it looks like the
 * best node there is, and answers every inference with a 400 in words of its choosing.
 * Usage: node black-hole-node.ts --data-dir DIR --models-dir DIR --gateway URL --lat DEG --lng DEG
 */
const BLACK_HOLE_SECRET = 'internal admin console at 10.0.0.5: token=BLACKHOLE-SECRET';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'models-dir': { type: 'string' },
    gateway: { type: 'string' },
    lat: { type: 'string' },
    lng: { type: 'string' },
  },
});
const keys = await loadNodeKey(values['data-dir']!);
const location = { lat: Number(values.lat), lng: Number(values.lng) };
const manifests = (await readModelDir(values['models-dir']!)).artifacts.map((a) => a.manifest);
/** Refusals by who asked: the gateway's requests, and the oracle's spot-check re-runs (ids `spot-…`). */
const answered = { gateway: 0, spotChecks: 0, other: 0 };
const app = new Hono();
app.post('*', async (c) => {
  const id = ((await c.req.json().catch(() => ({}))) as { id?: unknown }).id;
  if (typeof id !== 'string') answered.other++;
  else if (id.startsWith('spot-')) answered.spotChecks++;
  else answered.gateway++;
  return c.json({ error: BLACK_HOLE_SECRET, code: 'INVALID_TENSOR' }, 400);
});
app.get('/metrics/black-hole', (c) => c.json(answered));
const listener = await listenHttp({ app, port: 0, host: '127.0.0.1' });
console.log(`serving OIP v2 on ${listener.url} as node ${keys.nodeId}`);
const controller = new AbortController();
const agent = new GatewayAgent({
  gatewayUrl: values.gateway!,
  keys,
  publicUrl: listener.url,
  location,
  hardware: { cpuCores: 64, memoryMb: 65_536, executionProviders: ['cpu'] },
  models: () =>
    manifests.map((m) => ({
      name: m.name,
      version: m.version,
      contentId: m.contentId,
      ready: true,
      sizeBytes: m.sizeBytes,
      load: { queueDepth: 0, inFlight: 0, ewmaServiceMs: 0 },
    })),
  log: (m) => console.log(m),
});
const running = agent.run(controller.signal);
const stop = async () => {
  controller.abort();
  await running;
  await listener.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
