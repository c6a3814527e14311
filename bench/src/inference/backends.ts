/**
 * Raw model throughput per backend, in this process: `LoadedModel.run` (a thin wrapper over ORT's
 * `session.run`) back to back on [batch, 512, 3] windows, for vibration-anomaly fp32 and int8 on
 * onnxruntime-node (native CPU, 1 intra-op thread) and onnxruntime-web (WASM SIMD, WASM_THREADS
 * threads). All eight peers run in every round, interleaved.
 */
import type { LoadedModel } from '@hexedge/edge-node';
import { OrtNodeBackend, OrtWebBackend, type ModelArtifact } from '@hexedge/edge-node/node';
import { interleave, pairRow, ratePerS, type InferenceRow } from './rounds.ts';
import { windowBatch } from './vibration.ts';

/** onnxruntime-web's wasm thread count is global and fixed by its first session: set it, and say so. */
export const WASM_THREADS = 1;
export const NATIVE_INTRA_OP_THREADS = 1;
export const BATCH_SIZES = [1, 32] as const;
const INT8_GOAL = { text: '≥1.8× fp32', met: (ratio: number) => ratio >= 1.8 };

/** The raw model: a session on this thread (`workers: 0`), run back to back with nothing around it. */
export async function loadNative(artifact: ModelArtifact): Promise<LoadedModel> {
  return (await OrtNodeBackend.create({ intraOpThreads: NATIVE_INTRA_OP_THREADS, workers: 0 })).load(
    artifact,
  );
}

export async function backendRows(options: {
  fp32: ModelArtifact;
  int8: ModelArtifact;
  windows: Float32Array[];
  quick: boolean;
}): Promise<InferenceRow[]> {
  const { windows, quick } = options;
  const web = new OrtWebBackend({ numThreads: WASM_THREADS });
  const models = {
    native: { fp32: await loadNative(options.fp32), int8: await loadNative(options.int8) },
    wasm: { fp32: await web.load(options.fp32), int8: await web.load(options.int8) },
  };
  const sliceMs = quick ? 120 : 300;
  const peers: Record<string, () => Promise<number>> = {};
  for (const backend of ['native', 'wasm'] as const) {
    for (const precision of ['fp32', 'int8'] as const) {
      for (const batch of BATCH_SIZES) {
        const model = models[backend][precision];
        const input = [windowBatch(windows, batch)];
        peers[`${backend}/${precision}/${batch}`] = () =>
          ratePerS(sliceMs, async () => {
            await model.run(input);
            return batch;
          });
      }
    }
  }
  const s = await interleave({ rounds: quick ? 5 : 9, peers });
  const rows: InferenceRow[] = [];
  const label = {
    native: `native cpu (${NATIVE_INTRA_OP_THREADS} thread)`,
    wasm: `wasm (${WASM_THREADS} thread)`,
  };
  for (const backend of ['native', 'wasm'] as const) {
    for (const batch of BATCH_SIZES) {
      // Native: the goal holds at every batch size; WASM: at batch ≥ 16.
      const goal = backend === 'native' || batch >= 16 ? INT8_GOAL : undefined;
      rows.push(
        pairRow({
          name: `${label[backend]} int8 vs fp32, batch ${batch}`,
          unit: 'rows/s',
          value: s[`${backend}/int8/${batch}`]!,
          anchor: 'fp32',
          anchorValue: s[`${backend}/fp32/${batch}`]!,
          better: 'higher',
          goal,
        }),
      );
    }
  }
  for (const precision of ['fp32', 'int8'] as const) {
    for (const batch of BATCH_SIZES) {
      rows.push(
        pairRow({
          name: `wasm vs native, ${precision} batch ${batch}`,
          unit: 'rows/s',
          value: s[`wasm/${precision}/${batch}`]!,
          anchor: 'native cpu',
          anchorValue: s[`native/${precision}/${batch}`]!,
          better: 'higher',
        }),
      );
    }
  }
  for (const group of Object.values(models)) for (const m of Object.values(group)) await m.release();
  return rows;
}
