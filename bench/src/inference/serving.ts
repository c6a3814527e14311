/**
 * The node's HTTP API under load and at rest, against the raw model in this process. Two node
 * processes serve vibration-anomaly fp32 (1 intra-op thread): one with dynamic batching on
 * (maxBatchSize 32, maxQueueDelayUs BATCHING_DELAY_US), one with it off (maxBatchSize 1). Every request
 * is one simulated 512 × 3 window as OIP JSON; answers (probabilities, label, signed receipt) are read
 * whole. Client and servers share this machine's cores.
 */
import type { LoadedModel } from '@hexedge/edge-node';
import type { Pool } from 'undici';
import { closedLoopRate, openPool, postOnce, type HttpRequestSpec } from './http-load.ts';
import type { NodeProcess } from './node-process.ts';
import { interleave, median, pairRow, ratePerS, soloRow, timeEach, type InferenceRow } from './rounds.ts';
import { FP32_VERSION, VIBRATION_MODEL, windowBatch, windowJsonBody } from './vibration.ts';

export const CONCURRENT_CLIENTS = 64;
export const MAX_BATCH_SIZE = 32;
/** Long enough for a few requests to meet while the previous batch runs (~0.4 ms at batch 32). */
export const BATCHING_DELAY_US = 250;
const OVERHEAD_GOAL_MS = 0.3;

const inferPath = `/v2/models/${VIBRATION_MODEL}/versions/${FP32_VERSION}/infer`;
/** The HTTP stack's own floor on this machine: the node's cheapest route, no body, no model. */
const LIVE: HttpRequestSpec = { method: 'GET', path: '/v2/health/live', bodies: [], headers: {} };

export async function servingRows(options: {
  batching: NodeProcess;
  unbatched: NodeProcess;
  model: LoadedModel;
  windows: Float32Array[];
  quick: boolean;
}): Promise<InferenceRow[]> {
  const { batching, unbatched, model, windows, quick } = options;
  const encoder = new TextEncoder();
  const request: HttpRequestSpec = {
    method: 'POST',
    path: inferPath,
    bodies: windows.map((w) => encoder.encode(windowJsonBody(w))),
    headers: { 'content-type': 'application/json' },
  };
  const rows: InferenceRow[] = [];

  // Throughput: 64 closed-loop clients on each server, and the raw model at batch 32 and 1, interleaved.
  const loadPools = { on: openPool(batching.url, CONCURRENT_CLIENTS), off: openPool(unbatched.url, CONCURRENT_CLIENTS) };
  const durationMs = quick ? 1000 : 2500;
  const raw = (batch: number) => {
    const input = [windowBatch(windows, batch)];
    return () =>
      ratePerS(durationMs / 2, async () => {
        await model.run(input);
        return batch;
      });
  };
  await batching.stats(); // reset the batch counters
  const load = (pool: Pool, spec = request) => () => closedLoopRate({ pool, request: spec, concurrency: CONCURRENT_CLIENTS, durationMs });
  const t = await interleave({
    rounds: quick ? 3 : 7,
    peers: { on: load(loadPools.on), off: load(loadPools.off), raw32: raw(MAX_BATCH_SIZE), raw1: raw(1), live: load(loadPools.off, LIVE) },
  });
  const batchStats = await batching.stats();
  const onName = `HTTP ${CONCURRENT_CLIENTS} clients, batching on (max ${MAX_BATCH_SIZE}, ${BATCHING_DELAY_US} µs)`;
  rows.push(pairRow({ name: `${onName} vs off`, unit: 'req/s', value: t.on, anchor: 'batching off (max 1)', anchorValue: t.off, better: 'higher', goal: { text: '≥3×', met: (r) => r >= 3 } }));
  rows.push(pairRow({ name: `${onName} vs raw run`, unit: 'req/s', value: t.on, anchor: `session.run batch ${MAX_BATCH_SIZE}`, anchorValue: t.raw32, better: 'higher', goal: { text: '≥0.70×', met: (r) => r >= 0.7 } }));
  rows.push(pairRow({ name: `HTTP ${CONCURRENT_CLIENTS} clients, batching off vs raw run`, unit: 'req/s', value: t.off, anchor: 'session.run batch 1', anchorValue: t.raw1, better: 'higher' }));
  rows.push(pairRow({ name: `HTTP ${CONCURRENT_CLIENTS} clients, batching on vs GET /v2/health/live`, unit: 'req/s', value: t.on, anchor: 'health/live (HTTP floor)', anchorValue: t.live, better: 'higher' }));
  rows.push(soloRow({ name: 'batching on: mean rows per model run under load', unit: 'rows', value: [batchStats.runs ? batchStats.rows / batchStats.runs : 0] }));
  await Promise.all(Object.values(loadPools).map((p) => p.close()));

  // Latency at concurrency 1 (one keep-alive connection each): HTTP round trip vs the model run.
  const single = { on: openPool(batching.url, 1), off: openPool(unbatched.url, 1) };
  const perBlock = quick ? 150 : 400;
  let next = 0;
  const http = (pool: Pool) => async () => {
    const samples = await timeEach(perBlock, async () => {
      const r = await postOnce({ pool, path: inferPath, body: request.bodies[next++ % request.bodies.length]!, headers: request.headers });
      if (r.status !== 200) throw new Error(`infer answered ${r.status}`);
    });
    return median(samples);
  };
  const input = [windowBatch(windows, 1)];
  const l = await interleave({
    rounds: quick ? 5 : 11,
    peers: {
      off: http(single.off),
      on: http(single.on),
      run: async () => median(await timeEach(perBlock, () => model.run(input))),
      live: async () => median(await timeEach(perBlock, () => single.off.request({ method: 'GET', path: LIVE.path }).then((r) => r.body.text()))),
    },
  });
  await Promise.all(Object.values(single).map((p) => p.close()));
  rows.push(pairRow({ name: 'OIP infer p50, concurrency 1, batching off', unit: 'ms', value: l.off, anchor: 'session.run p50 batch 1', anchorValue: l.run, better: 'lower' }));
  rows.push(
    soloRow({
      name: 'serving overhead p50 (HTTP − session.run), batching off',
      unit: 'ms',
      value: l.off.map((v, i) => v - l.run[i]!),
      goal: { text: `≤${OVERHEAD_GOAL_MS} ms`, met: (_r, v) => v <= OVERHEAD_GOAL_MS },
    }),
  );
  rows.push(soloRow({ name: 'GET /v2/health/live p50, concurrency 1 (HTTP round-trip floor)', unit: 'ms', value: l.live }));
  rows.push(pairRow({ name: `OIP infer p50, concurrency 1, batching on (${BATCHING_DELAY_US} µs)`, unit: 'ms', value: l.on, anchor: 'batching off', anchorValue: l.off, better: 'lower' }));
  rows.push(soloRow({ name: 'serving overhead p50 (HTTP − session.run), batching on', unit: 'ms', value: l.on.map((v, i) => v - l.run[i]!) }));
  return rows;
}
