/**
 * One inference worker thread: an onnxruntime-node session for one model, fed through a WorkerPool
 * (worker-pool.ts). The model runs here, so the node's event loop keeps parsing, hashing and answering
 * requests while it does; tensor buffers cross both ways by transfer, not by copy. Only ORT's own
 * types cross the thread line (the OIP conversion stays on the main thread), so this file imports
 * nothing of ours and the thread stays small.
 */
import ort from 'onnxruntime-node';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface OrtWorkerData {
  bytes: Uint8Array;
  /** ORT's execution provider names, in order (e.g. `['webgpu', 'cpu']`). */
  executionProviders: string[];
  intraOpThreads: number;
}

/** A tensor as ORT holds it: `type` is ORT's name (`float32`, `int64`, `string` …). */
export interface OrtWireTensor {
  name: string;
  type: string;
  dims: number[];
  data: ArrayBufferView | string[];
}

export interface OrtJob {
  feeds: OrtWireTensor[];
  fetches: string[];
}

export interface OrtWorkerInfo {
  outputNames: string[];
}

/** Buffers to move rather than copy (each once: two views may share one). */
export function transferablesOf(tensors: readonly OrtWireTensor[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const t of tensors)
    if (ArrayBuffer.isView(t.data) && t.data.buffer instanceof ArrayBuffer) out.add(t.data.buffer);
  return [...out];
}

async function serve(port: NonNullable<typeof parentPort>, data: OrtWorkerData): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(data.bytes, {
      executionProviders: data.executionProviders,
      graphOptimizationLevel: 'all',
      intraOpNumThreads: data.intraOpThreads,
    });
  } catch (err) {
    port.postMessage({ type: 'failed', error: (err as Error).message });
    process.exit(1);
  }
  port.on('message', async ({ id, job }: { id: number; job: OrtJob }) => {
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const f of job.feeds)
        feeds[f.name] = new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims);
      const results = await session.run(feeds, job.fetches);
      const outputs: OrtWireTensor[] = job.fetches.map((name) => {
        const t = results[name]!;
        return { name, type: t.type, dims: [...t.dims], data: t.data as ArrayBufferView | string[] };
      });
      port.postMessage({ id, result: outputs }, transferablesOf(outputs));
    } catch (err) {
      port.postMessage({ id, error: (err as Error).message });
    }
  });
  port.postMessage({
    type: 'ready',
    info: { outputNames: [...session.outputNames] } satisfies OrtWorkerInfo,
  });
}

if (!isMainThread && parentPort) void serve(parentPort, workerData as OrtWorkerData);
