import { Worker } from 'node:worker_threads';

/*
 * How one pool worker starts and ends: the protocol a worker script speaks, its start (and the promise
 * of its `ready`), and its stop (asked first, terminated only if it hangs). WorkerPool (worker-pool.ts)
 * keeps the running ones.
 */

/**
 * What a pool worker script speaks. It posts `{ type: 'ready', info }` once it can take jobs (or
 * `{ type: 'failed', error }` and exits), then answers each `{ id, job }` with `{ id, result }` or
 * `{ id, error }`. One job at a time per worker: the pool never posts a second before the answer.
 * A `{ control, message }` (`broadcast`: every worker gets it, beside its job) is answered with
 * `{ control, result }` or `{ control, error }`. `{ stop: true }` (the pool's last message to it) asks
 * the worker to finish what it is running, free what it holds and end its thread (close its port).
 */
export type WorkerReply<Info, Result> =
  | { type: 'ready'; info: Info }
  | { type: 'failed'; error: string }
  | { control: number; result?: unknown; error?: string }
  | { id: number; result: Result; error?: undefined }
  | { id: number; error: string; result?: undefined };

export interface WorkerPoolOptions {
  /** What the pool runs, for errors and logs (e.g. `vibration-anomaly@1.0.0`). */
  label: string;
  /** The worker's module (a `.ts` file runs as is: Node strips the types). */
  script: URL;
  /** Threads in the pool; each runs one job at a time. */
  size: number;
  /**
   * Passed to every worker, respawned ones included (structured-cloned for each). A function is asked
   * at each start, so a replacement starts with what the pool holds then (e.g. every model loaded since).
   */
  workerData: unknown;
  /** Starts in a row that die before `ready` before the pool stops respawning. Default 3. */
  maxFailedStarts?: number;
  /**
   * How long a worker asked to stop may take to end its thread before it is terminated. Default
   * 10 000 ms. Terminating a thread that is inside a native call (an ORT session opening or running)
   * can abort the whole process, so the pool asks first and terminates only a worker that hangs.
   */
  stopGraceMs?: number;
  log?: (line: string) => void;
}

/** The data a worker starts with: `workerData`, or what it gives now when it is a function. */
export const dataOf = (options: WorkerPoolOptions): unknown =>
  typeof options.workerData === 'function' ? (options.workerData as () => unknown)() : options.workerData;

export const STOP_GRACE_MS = 10_000;

/** The message that asks a worker to end (see WorkerReply). */
export const STOP_MESSAGE = { stop: true } as const;

/**
 * Asks a worker to end and resolves once its thread has: `{ stop: true }` first, `terminate()` only
 * if it is still alive `graceMs` later. `exited` is its 'exit' event, listened for from its start (a
 * worker that has exited already gets no second event). The worker is ref'd meanwhile, so the
 * process does not leave with a thread still unwinding.
 */
export async function stopWorker(worker: Worker, exited: Promise<void>, graceMs: number): Promise<void> {
  worker.ref();
  worker.postMessage(STOP_MESSAGE);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), graceMs)));
  try {
    if ((await Promise.race([exited, hung])) === 'hung') await worker.terminate();
  } finally {
    clearTimeout(timer);
  }
  await exited;
}

/**
 * One worker, the promise of its `ready` (rejected with its reason if it fails or dies first) and of
 * its exit.
 */
export function startWorker<Info>(options: WorkerPoolOptions): {
  worker: Worker;
  ready: Promise<Info>;
  exited: Promise<void>;
} {
  const worker = new Worker(options.script, { workerData: dataOf(options) });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const ready = new Promise<Info>((resolve, reject) => {
    const onMessage = (m: WorkerReply<Info, unknown>) => {
      if (!('type' in m)) return;
      cleanup();
      if (m.type === 'ready') resolve(m.info);
      else reject(new Error(`${options.label}: ${m.error}`));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new Error(`${options.label}: the inference worker failed to start (${err.message})`));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(
        new Error(`${options.label}: the inference worker exited with code ${code} before it was ready`),
      );
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
  return { worker, ready, exited };
}
