/**
 * The node's HTTP API under load (throughput.ts) and at rest, against the raw model in this process.
 * Two node processes serve vibration-anomaly fp32 (1 intra-op thread, the model on an inference worker
 * thread): one with dynamic batching on (maxBatchSize 32, maxQueueDelayUs BATCHING_DELAY_US), one with
 * it off (maxBatchSize 1). Every request is one simulated 512 × 3 window (OIP JSON here at concurrency
 * 1); answers (probabilities, label, signed receipt) are read whole. Client and servers share this
 * machine's cores.
 */
import type { LoadedModel } from '@hexedge/edge-node';
import type { Pool } from 'undici';
import { openPool, postOnce } from './http-load.ts';
import type { NodeProcess } from './node-process.ts';
import { interleave, median, pairRow, soloRow, timeEach, type InferenceRow } from './rounds.ts';
import { BATCHING_DELAY_US, inferPath, jsonRequests, throughputRows } from './throughput.ts';
import { windowBatch } from './vibration.ts';

const OVERHEAD_GOAL_MS = 0.3;
/** The HTTP stack's own floor on this machine: the node's cheapest route, no body, no model. */
const LIVE = { path: '/v2/health/live' };

export async function servingRows(options: {
  batching: NodeProcess;
  unbatched: NodeProcess;
  model: LoadedModel;
  windows: Float32Array[];
  quick: boolean;
}): Promise<InferenceRow[]> {
  const { batching, unbatched, model, windows, quick } = options;
  const request = jsonRequests(windows);
  const rows: InferenceRow[] = await throughputRows(options);

  // Latency at concurrency 1 (one keep-alive connection each): HTTP round trip vs the model run.
  const single = { on: openPool(batching.url, 1), off: openPool(unbatched.url, 1) };
  const perBlock = quick ? 150 : 400;
  let next = 0;
  const http = (pool: Pool) => async () => {
    const samples = await timeEach(perBlock, async () => {
      const r = await postOnce({
        pool,
        path: inferPath,
        body: request.bodies[next++ % request.bodies.length]!,
        headers: request.headers,
      });
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
      live: async () =>
        median(
          await timeEach(perBlock, () =>
            single.off.request({ method: 'GET', path: LIVE.path }).then((r) => r.body.text()),
          ),
        ),
    },
  });
  await Promise.all(Object.values(single).map((p) => p.close()));
  rows.push(
    pairRow({
      name: 'OIP infer p50, concurrency 1, batching off',
      unit: 'ms',
      value: l.off,
      anchor: 'session.run p50 batch 1',
      anchorValue: l.run,
      better: 'lower',
    }),
  );
  rows.push(
    soloRow({
      name: 'serving overhead p50 (HTTP − session.run), batching off',
      unit: 'ms',
      value: l.off.map((v, i) => v - l.run[i]!),
      goal: { text: `≤${OVERHEAD_GOAL_MS} ms`, met: (_r, v) => v <= OVERHEAD_GOAL_MS },
    }),
  );
  rows.push(
    soloRow({
      name: 'GET /v2/health/live p50, concurrency 1 (HTTP round-trip floor)',
      unit: 'ms',
      value: l.live,
    }),
  );
  rows.push(
    pairRow({
      name: `OIP infer p50, concurrency 1, batching on (${BATCHING_DELAY_US} µs)`,
      unit: 'ms',
      value: l.on,
      anchor: 'batching off',
      anchorValue: l.off,
      better: 'lower',
    }),
  );
  rows.push(
    soloRow({
      name: 'serving overhead p50 (HTTP − session.run), batching on',
      unit: 'ms',
      value: l.on.map((v, i) => v - l.run[i]!),
    }),
  );
  return rows;
}
