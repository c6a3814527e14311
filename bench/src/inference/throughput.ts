/**
 * The node's HTTP throughput under 64 closed-loop clients, dynamic batching on and off, with each
 * window sent two ways: as the binary tensor extension (what the gateway forwards inside the fabric)
 * and as OIP JSON (what a client may send a node directly). Peers in the same rounds: the raw model
 * (`session.run` in this process at batch 32 and 1, which also gives batching's own ceiling) and
 * `GET /v2/health/live` (the HTTP stack's floor). Each load slice also reads the node process's CPU
 * time (all threads) per request answered.
 */
import type { LoadedModel } from '@hexedge/edge-node';
import type { Pool } from 'undici';
import { closedLoopRate, openPool, type HttpRequestSpec } from './http-load.ts';
import type { NodeProcess } from './node-process.ts';
import { interleave, pairRow, ratePerS, soloRow, type InferenceRow } from './rounds.ts';
import { FP32_VERSION, VIBRATION_MODEL, windowBatch, windowBinaryBody, windowJsonBody } from './vibration.ts';

export const CONCURRENT_CLIENTS = 64;
export const MAX_BATCH_SIZE = 32;
/** Long enough for a few requests to meet when the model is idle (~0.4 ms per run at batch 32). */
export const BATCHING_DELAY_US = 250;
const BATCHING_GOAL = { text: '≥3×', met: (r: number) => r >= 3 };
const RAW_GOAL = { text: '≥0.5×', met: (r: number) => r >= 0.5 };

export const inferPath = `/v2/models/${VIBRATION_MODEL}/versions/${FP32_VERSION}/infer`;
/** The HTTP stack's own floor on this machine: the node's cheapest route, no body, no model. */
const LIVE: HttpRequestSpec = { method: 'GET', path: '/v2/health/live', bodies: [], headers: {} };

export function jsonRequests(windows: readonly Float32Array[]): HttpRequestSpec {
  const encoder = new TextEncoder();
  return {
    method: 'POST',
    path: inferPath,
    bodies: windows.map((w) => encoder.encode(windowJsonBody(w))),
    headers: { 'content-type': 'application/json' },
  };
}

export function binaryRequests(windows: readonly Float32Array[]): HttpRequestSpec {
  return {
    method: 'POST',
    path: inferPath,
    bodies: windows.map((w) => windowBinaryBody(w).body),
    headers: windowBinaryBody(windows[0]!).headers,
  };
}

export async function throughputRows(options: {
  batching: NodeProcess;
  unbatched: NodeProcess;
  model: LoadedModel;
  windows: Float32Array[];
  quick: boolean;
}): Promise<InferenceRow[]> {
  const { batching, unbatched, model, windows, quick } = options;
  const json = jsonRequests(windows);
  const binary = binaryRequests(windows);
  const pools = {
    on: openPool(batching.url, CONCURRENT_CLIENTS),
    off: openPool(unbatched.url, CONCURRENT_CLIENTS),
  };
  const durationMs = quick ? 1000 : 2500;
  const raw = (batch: number) => {
    const input = [windowBatch(windows, batch)];
    return () =>
      ratePerS(durationMs / 2, async () => {
        await model.run(input);
        return batch;
      });
  };
  const cpuUsPerRequest: Record<'onBinary' | 'onJson', number[]> = { onBinary: [], onJson: [] };
  const rowsPerRun: number[] = [];
  /** A load slice; on the batching node it also reads CPU per request and rows per run. */
  const load = (pool: Pool, request: HttpRequestSpec, measure?: keyof typeof cpuUsPerRequest) => async () => {
    if (measure) await batching.stats(); // reset its counters
    const rate = await closedLoopRate({ pool, request, concurrency: CONCURRENT_CLIENTS, durationMs });
    if (measure) {
      const s = await batching.stats();
      cpuUsPerRequest[measure].push(s.requests ? s.cpuUs / s.requests : 0);
      if (measure === 'onBinary') rowsPerRun.push(s.runs ? s.rows / s.runs : 0);
    }
    return rate;
  };
  const t = await interleave({
    rounds: quick ? 3 : 7,
    peers: {
      onBinary: load(pools.on, binary, 'onBinary'),
      offBinary: load(pools.off, binary),
      onJson: load(pools.on, json, 'onJson'),
      offJson: load(pools.off, json),
      raw32: raw(MAX_BATCH_SIZE),
      raw1: raw(1),
      live: load(pools.off, LIVE),
    },
  });
  await Promise.all(Object.values(pools).map((p) => p.close()));
  // The warm-up round's figures were discarded by interleave; drop them here too.
  for (const list of [...Object.values(cpuUsPerRequest), rowsPerRun])
    list.splice(0, list.length - t.onBinary.length);

  const on = `HTTP ${CONCURRENT_CLIENTS} clients, batching on (max ${MAX_BATCH_SIZE}, ${BATCHING_DELAY_US} µs)`;
  const raw32 = `session.run batch ${MAX_BATCH_SIZE}`;
  return [
    pairRow({
      name: `${on} vs off, binary tensors`,
      unit: 'req/s',
      value: t.onBinary,
      anchor: 'batching off (max 1)',
      anchorValue: t.offBinary,
      better: 'higher',
      goal: BATCHING_GOAL,
    }),
    pairRow({
      name: `${on}, binary tensors vs raw run`,
      unit: 'rows/s',
      value: t.onBinary,
      anchor: raw32,
      anchorValue: t.raw32,
      better: 'higher',
      goal: RAW_GOAL,
    }),
    pairRow({
      name: `${on} vs off, JSON`,
      unit: 'req/s',
      value: t.onJson,
      anchor: 'batching off (max 1)',
      anchorValue: t.offJson,
      better: 'higher',
      goal: BATCHING_GOAL,
    }),
    pairRow({
      name: `${on}, JSON vs raw run`,
      unit: 'rows/s',
      value: t.onJson,
      anchor: raw32,
      anchorValue: t.raw32,
      better: 'higher',
      goal: RAW_GOAL,
    }),
    pairRow({
      name: `raw session.run batch ${MAX_BATCH_SIZE} vs batch 1 (the most batching can gain)`,
      unit: 'rows/s',
      value: t.raw32,
      anchor: 'batch 1',
      anchorValue: t.raw1,
      better: 'higher',
    }),
    pairRow({
      name: `HTTP ${CONCURRENT_CLIENTS} clients, batching off, binary vs raw run`,
      unit: 'rows/s',
      value: t.offBinary,
      anchor: 'session.run batch 1',
      anchorValue: t.raw1,
      better: 'higher',
    }),
    pairRow({
      name: `HTTP ${CONCURRENT_CLIENTS} clients, batching on, binary vs GET /v2/health/live`,
      unit: 'req/s',
      value: t.onBinary,
      anchor: 'health/live (HTTP floor)',
      anchorValue: t.live,
      better: 'higher',
    }),
    pairRow({
      name: 'node CPU per request (all threads), batching on, binary',
      unit: 'µs',
      value: cpuUsPerRequest.onBinary,
      anchor: 'JSON',
      anchorValue: cpuUsPerRequest.onJson,
      better: 'lower',
    }),
    soloRow({
      name: 'batching on, binary: mean rows per model run under load',
      unit: 'rows',
      value: rowsPerRun,
    }),
  ];
}
