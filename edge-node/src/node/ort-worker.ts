/**
 * One inference worker thread: onnxruntime-node sessions for every model the node serves, fed through
 * a WorkerPool (worker-pool.ts) shared by all of them (ort-threads.ts). A thread's own V8 heap costs
 * ~25 MB, so threads are shared rather than one per model. The models run here, so the node's event
 * loop keeps parsing, hashing and answering requests while they do; tensor buffers cross both ways by
 * transfer, not by copy. Only ORT's own types cross the thread line (the OIP conversion stays on the
 * main thread), so this file imports nothing of ours and the thread stays small.
 */
import ort from 'onnxruntime-node';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

/** One model's session as a thread opens it: `key` names it in jobs (unique per load). */
export interface OrtSessionSpec {
  key: string;
  bytes: Uint8Array;
  /** ORT's execution provider names, in order (e.g. `['webgpu', 'cpu']`). */
  executionProviders: string[];
  intraOpThreads: number;
}

/** What a thread starts with: the sessions of every model loaded so far (a replacement reopens them). */
export interface OrtWorkerData {
  sessions: OrtSessionSpec[];
}

/** A tensor as ORT holds it: `type` is ORT's name (`float32`, `int64`, `string` …). */
export interface OrtWireTensor {
  name: string;
  type: string;
  dims: number[];
  data: ArrayBufferView | string[];
}

export interface OrtJob {
  /** The session's key (OrtSessionSpec.key). */
  model: string;
  feeds: OrtWireTensor[];
  fetches: string[];
}

/** Broadcast to every thread (WorkerPool.broadcast): open a model's session, or close it. */
export type OrtControl = { op: 'load'; spec: OrtSessionSpec } | { op: 'unload'; key: string };

/** A load's answer: the session's output names. */
export interface OrtLoaded {
  outputNames: string[];
}

/** Buffers to move rather than copy (each once: two views may share one). */
export function transferablesOf(tensors: readonly OrtWireTensor[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const t of tensors)
    if (ArrayBuffer.isView(t.data) && t.data.buffer instanceof ArrayBuffer) out.add(t.data.buffer);
  return [...out];
}

const open = (spec: OrtSessionSpec) =>
  ort.InferenceSession.create(spec.bytes, {
    executionProviders: spec.executionProviders,
    graphOptimizationLevel: 'all',
    intraOpNumThreads: spec.intraOpThreads,
  });

async function run(sessions: Map<string, ort.InferenceSession>, job: OrtJob): Promise<OrtWireTensor[]> {
  const session = sessions.get(job.model);
  if (!session) throw new Error(`no session for ${job.model} on this thread`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of job.feeds)
    feeds[f.name] = new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims);
  const results = await session.run(feeds, job.fetches);
  return job.fetches.map((name) => {
    const t = results[name]!;
    return { name, type: t.type, dims: [...t.dims], data: t.data as ArrayBufferView | string[] };
  });
}

/** Keeps a session just opened, unless the same key was opened meanwhile (then this one is closed). */
async function keep(
  sessions: Map<string, ort.InferenceSession>,
  key: string,
  session: ort.InferenceSession,
): Promise<ort.InferenceSession> {
  const held = sessions.get(key);
  if (!held) {
    sessions.set(key, session);
    return session;
  }
  await session.release();
  return held;
}

async function control(sessions: Map<string, ort.InferenceSession>, c: OrtControl): Promise<unknown> {
  if (c.op === 'unload') {
    const session = sessions.get(c.key);
    sessions.delete(c.key);
    await session?.release();
    return undefined;
  }
  // A replacement thread may have opened it from its start data already.
  const session = sessions.get(c.spec.key) ?? (await keep(sessions, c.spec.key, await open(c.spec)));
  return { outputNames: [...session.outputNames] } satisfies OrtLoaded;
}

async function serve(port: NonNullable<typeof parentPort>, data: OrtWorkerData): Promise<void> {
  const sessions = new Map<string, ort.InferenceSession>();
  /** Work under way (opening sessions, runs, controls): a stop waits for it before freeing sessions. */
  const busy = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    busy.add(work);
    void work.then(
      () => busy.delete(work),
      () => busy.delete(work),
    );
    return work;
  };
  let stopping = false;
  // The pool's last message: this thread ends by itself once its sessions are released, never by a
  // terminate() that could land inside ORT's native code and abort the process.
  const stop = async () => {
    stopping = true;
    while (busy.size > 0) await Promise.allSettled([...busy]);
    for (const session of sessions.values()) await session.release().catch(() => {});
    sessions.clear();
    port.close();
  };
  type Message = { id: number; job: OrtJob } | { control: number; message: OrtControl } | { stop: true };
  // Listening first: broadcasts posted while the sessions open wait in the port, in order.
  port.on('message', async (m: Message) => {
    if ('stop' in m) return void stop();
    if (stopping) return;
    if ('control' in m) {
      try {
        port.postMessage({ control: m.control, result: await track(control(sessions, m.message)) });
      } catch (err) {
        port.postMessage({ control: m.control, error: (err as Error).message });
      }
      return;
    }
    try {
      const outputs = await track(run(sessions, m.job));
      port.postMessage({ id: m.id, result: outputs }, transferablesOf(outputs));
    } catch (err) {
      port.postMessage({ id: m.id, error: (err as Error).message });
    }
  });
  for (const spec of data.sessions) {
    try {
      await track(open(spec).then((session) => keep(sessions, spec.key, session)));
    } catch (err) {
      port.postMessage({ type: 'failed', error: `${spec.key}: ${(err as Error).message}` });
      for (const session of sessions.values()) await session.release().catch(() => {});
      process.exit(1);
    }
    if (stopping) return;
  }
  port.postMessage({ type: 'ready', info: {} });
}

if (!isMainThread && parentPort) void serve(parentPort, workerData as OrtWorkerData);
