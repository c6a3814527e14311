/**
 * The verifiable response cache's hit path against its miss path, in the same run: the real
 * `createGatewayApp` with an `InferCache` and the origin catalogue listing comfort-index (so its answers
 * are cacheable), served on 127.0.0.1 in this process, in front of one real edge node process
 * (`hexedge node init` + `node run`, onnxruntime). Misses send readings never sent before (each a
 * placement, a forward, a node run, a receipt check and a store); hits repeat readings answered once
 * before (a placement, a digest and a lookup; the original answer and signed receipt come back).
 * One-at-a-time latency (p50, one connection) and closed-loop throughput (16 clients), rounds
 * interleaved. Ratios: time anchor/value and rate value/anchor, so above 1 = the hit path wins. The
 * load generator shares this process's event loop with the gateway, alike for both paths.
 */
import { serve } from '@hono/node-server';
import { createGatewayApp, InferCache, KeyRing, MemoryKeyStore } from '@hexedge/gateway';
import { PooledNodeClient } from '@hexedge/gateway/node';
import { Placement } from '@hexedge/placement';
import { generateNodeKeyPair, modelManifestSchema } from '@hexedge/protocol';
import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { COMFORT_MODEL, COMFORT_VERSION, startEdgeNode, writeComfortModel } from '../gateway/edge-node.ts';
import { closedLoop, oneAtATime } from '../gateway/load.ts';
import { openPool, type HttpRequestSpec } from '../inference/http-load.ts';
import { formatSpread, interleave, pairRow, type InferenceRow } from '../inference/rounds.ts';
import type { BenchRow } from '../report.ts';

const NODE_LOCATION = { lat: 52.52, lng: 13.405 };
const REQUEST_LOCATION = { lat: 52.5, lng: 13.43 };
const HIT_BODIES = 64;
const CLIENTS = 16;
const encoder = new TextEncoder();

/** Comfort readings [°C, %RH, ppm CO2]; `offset` makes every body of a miss set new to the cache. */
function bodies(count: number, offset: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + offset;
    const data = [
      18 + (n % 13) + (n % 1000) / 1000,
      30 + ((n * 7) % 50),
      450 + Math.floor(n / 1000) + ((n * 97) % 1200),
    ];
    return encoder.encode(
      JSON.stringify({
        model: COMFORT_MODEL,
        version: COMFORT_VERSION,
        location: REQUEST_LOCATION,
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data }],
      }),
    );
  });
}

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-bench-cache-'));
  const apiKey = `hx_bench_${randomBytes(18).toString('base64url')}`;
  const stack: (() => Promise<void>)[] = [];
  const rows: InferenceRow[] = [];
  const rounds = quick ? 3 : 7;
  const perRound = quick ? 100 : 300;
  const loadMs = quick ? 1_000 : 3_000;
  try {
    const placement = new Placement({ heartbeatIntervalMs: 5_000, assumeLocationsVerified: true });
    const keys = new KeyRing({ store: new MemoryKeyStore() });
    await keys.adopt(apiKey, { name: 'bench admin', role: 'admin' });
    const nodeClient = new PooledNodeClient({ allowPrivateAddresses: true });
    stack.push(() => nodeClient.close());
    const forwardKeys = await generateNodeKeyPair();
    const modelBytes = buildComfortIndexModel();
    const manifest = modelManifestSchema.parse(await comfortIndexManifest(modelBytes));
    const catalog = {
      manifests: () => [manifest],
      manifest: (id: string) => (id === manifest.contentId ? manifest : undefined),
      artifact: async (id: string) => (id === manifest.contentId ? modelBytes : undefined),
    };
    const lookups = new Map<string, number>();
    const cache = new InferCache({
      limits: { maxEntries: 1_000_000, maxBytes: 2 ** 30 },
      onLookup: (o) => lookups.set(o, (lookups.get(o) ?? 0) + 1),
    });
    const { app } = createGatewayApp({
      placement,
      keys,
      nodeClient,
      nodeUrls: { allowPrivate: true },
      forwardKeys,
      reporterId: forwardKeys.nodeId,
      catalog,
      cache,
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    stack.push(() => new Promise((r) => server.close(() => r())));
    const gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const modelsDir = path.join(dir, 'models');
    await writeComfortModel(modelsDir);
    const node = await startEdgeNode({
      dataDir: path.join(dir, 'node'),
      modelsDir,
      gatewayUrl,
      ...NODE_LOCATION,
    });
    stack.push(() => node.stop());
    const deadline = Date.now() + 30_000;
    while (
      placement.candidates({ location: REQUEST_LOCATION, model: COMFORT_MODEL }).filter((c) => c.model.ready)
        .length === 0
    ) {
      if (Date.now() > deadline) throw new Error(`node ${node.nodeId} did not register within 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
    const hit: HttpRequestSpec = {
      method: 'POST',
      path: '/v1/infer',
      bodies: bodies(HIT_BODIES, 0),
      headers,
    };
    let missOffset = 1_000;
    const nextMisses = (count: number): HttpRequestSpec => {
      const spec: HttpRequestSpec = {
        method: 'POST',
        path: '/v1/infer',
        bodies: bodies(count, missOffset),
        headers,
      };
      missOffset += count;
      return spec;
    };
    const one = openPool(gatewayUrl, 1);
    const many = openPool(gatewayUrl, CLIENTS);
    stack.push(async () => void (await Promise.all([one.close(), many.close()])));
    // Fill the cache with the hit set (and warm the node's session).
    await oneAtATime({ pool: one, request: hit, count: HIT_BODIES });

    const latency = await interleave({
      rounds,
      peers: {
        hit: async () => (await oneAtATime({ pool: one, request: hit, count: perRound })).p50Ms,
        miss: async () =>
          (await oneAtATime({ pool: one, request: nextMisses(perRound), count: perRound })).p50Ms,
      },
    });
    rows.push(
      pairRow({
        name: 'cache hit p50, one at a time',
        unit: 'ms',
        value: latency.hit,
        anchor: 'cache miss p50 (node run + receipt check)',
        anchorValue: latency.miss,
        better: 'lower',
      }),
    );
    // A miss set as large as a round can send: every one of them new to the cache.
    const missSetSize = Math.ceil((loadMs / 1000) * 20_000);
    const rate = await interleave({
      rounds,
      peers: {
        hit: async () =>
          (await closedLoop({ pool: many, request: hit, concurrency: CLIENTS, durationMs: loadMs })).rate,
        miss: async () =>
          (
            await closedLoop({
              pool: many,
              request: nextMisses(missSetSize),
              concurrency: CLIENTS,
              durationMs: loadMs,
            })
          ).rate,
      },
    });
    rows.push(
      pairRow({
        name: `cache hit throughput, ${CLIENTS} clients`,
        unit: 'req/s',
        value: rate.hit,
        anchor: 'cache miss throughput',
        anchorValue: rate.miss,
        better: 'higher',
      }),
    );
    console.log(
      `cache lookups: ${JSON.stringify(Object.fromEntries(lookups))}; entries ${cache.entries}, ${(cache.bytes / 2 ** 20).toFixed(1)} MiB`,
    );
  } finally {
    for (const close of stack.reverse())
      await close().catch((err: Error) => console.error(`shutdown: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`spread over rounds (min–max):\n${formatSpread(rows)}`);
  return rows;
}
