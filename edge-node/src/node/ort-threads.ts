import { HexEdgeError } from '@hexedge/protocol';
import type { Transferable } from 'node:worker_threads';
import type {
  OrtControl,
  OrtJob,
  OrtLoaded,
  OrtSessionSpec,
  OrtWireTensor,
  OrtWorkerData,
} from './ort-worker.ts';
import { WorkerPool } from './worker-pool.ts';

const ORT_WORKER = new URL('./ort-worker.ts', import.meta.url);

/**
 * The inference threads of one onnxruntime-node backend, shared by every model it loads: each thread
 * holds a session of each model (ort-worker.ts), so any idle thread runs any model's job. A thread's
 * own V8 heap and Node bootstrap cost ~25 MB; seven models on a thread each took ~180 MB more than on
 * the event loop, on a thread of their own each. The pool starts with the first model and ends with
 * the last (`unload`), so a backend with nothing loaded holds no thread.
 *
 * Loads and unloads go one at a time. A load opens the session on every thread; one that fails
 * anywhere (or kills a thread) is taken back everywhere and the load fails, naming the model; a thread
 * that dies later is replaced with every model's session (WorkerPool's respawn, from `workerData`).
 */
export class OrtThreads {
  readonly size: number;
  readonly #log: ((line: string) => void) | undefined;
  readonly #specs = new Map<string, OrtSessionSpec>();
  #pool: WorkerPool | undefined;
  #changes: Promise<unknown> = Promise.resolve();
  #nextKey = 1;

  constructor(options: { size: number; log?: (line: string) => void }) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new Error(`inference threads ${options.size} is not a positive integer`);
    this.size = options.size;
    this.#log = options.log;
  }

  /** Threads alive now, and how many were replaced after dying (for tests and metrics). */
  get threads(): { alive: number; respawns: number } {
    return { alive: this.#pool?.threads ?? 0, respawns: this.#pool?.respawns ?? 0 };
  }

  /** Opens a model's session on every thread; resolves with the key its jobs name and its output names. */
  load(options: Omit<OrtSessionSpec, 'key'> & { label: string }): Promise<{ key: string } & OrtLoaded> {
    const { label, ...session } = options;
    return this.#change(async () => {
      // Started with the models loaded so far (none when it is new): this one comes by broadcast, so a
      // session that fails to open fails this load with ORT's message, not a thread's start.
      this.#pool ??= await WorkerPool.start({
        label: 'onnxruntime-node',
        script: ORT_WORKER,
        size: this.size,
        workerData: (): OrtWorkerData => ({ sessions: [...this.#specs.values()] }),
        ...(this.#log ? { log: this.#log } : {}),
      });
      const spec: OrtSessionSpec = { key: `${label}#${this.#nextKey++}`, ...session };
      // Known before the broadcast: a thread replaced meanwhile opens it from its start data.
      this.#specs.set(spec.key, spec);
      try {
        const [loaded] = await this.#pool.broadcast<OrtLoaded>({ op: 'load', spec } satisfies OrtControl, {
          failOnExit: true,
        });
        if (!loaded) throw new Error('no inference thread is running to open it');
        return { key: spec.key, outputNames: loaded.outputNames };
      } catch (err) {
        this.#specs.delete(spec.key);
        await this.#closeIfEmpty(spec.key);
        throw new Error(`${label}: ${(err as Error).message.replace(/^onnxruntime-node: /, '')}`, {
          cause: err,
        });
      }
    });
  }

  /** Closes a model's session on every thread; the last model's unload ends the threads. */
  unload(key: string): Promise<void> {
    return this.#change(async () => {
      if (!this.#specs.delete(key)) return;
      await this.#closeIfEmpty(key);
    });
  }

  /** Runs one job of model `key` on the next idle thread; errors name `label`. */
  run(
    key: string,
    job: Omit<OrtJob, 'model'>,
    options: { label: string; transfer: readonly Transferable[] },
  ) {
    if (!this.#pool || !this.#specs.has(key))
      return Promise.reject(new HexEdgeError('MODEL_NOT_READY', `${options.label} is not loaded`));
    return this.#pool.run<OrtWireTensor[]>({ ...job, model: key } satisfies OrtJob, options.transfer, {
      label: options.label,
    });
  }

  /** With no model left the threads end; else the session of `key` is closed on each (best effort). */
  async #closeIfEmpty(key: string): Promise<void> {
    const pool = this.#pool;
    if (!pool) return;
    if (this.#specs.size === 0) {
      this.#pool = undefined;
      await pool.close();
      return;
    }
    await pool.broadcast({ op: 'unload', key } satisfies OrtControl).catch(() => {});
  }

  #change<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#changes.then(step, step);
    this.#changes = next.catch(() => {});
    return next;
  }
}
