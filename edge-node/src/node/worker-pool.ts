import { HexEdgeError } from '@hexedge/protocol';
import { Worker, type Transferable } from 'node:worker_threads';
import {
  dataOf,
  STOP_GRACE_MS,
  startWorker,
  stopWorker,
  type WorkerPoolOptions,
  type WorkerReply,
} from './worker-lifecycle.ts';

export { STOP_MESSAGE, type WorkerPoolOptions, type WorkerReply } from './worker-lifecycle.ts';

interface Job {
  job: unknown;
  transfer: readonly Transferable[];
  /** What the job runs, for its errors. */
  label: string;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  current: (Job & { id: number }) | undefined;
  /** Broadcasts this worker has not answered yet. */
  controls: Set<number>;
  exited: Promise<void>;
  /** Why a worker that never became ready gave up (its `failed` message). */
  failure?: string;
}

/** One broadcast: the workers still to answer, what they answered, and its promise's ends. */
interface Control {
  waiting: Set<Slot>;
  results: unknown[];
  resolve: (results: unknown[]) => void;
  reject: (err: Error) => void;
}

/** First respawn after a crash at once; a worker that keeps dying on start backs off 100, 200, 400 ms. */
const RESPAWN_BACKOFF_MS = 100;

/**
 * A fixed-size pool of worker threads running one script: jobs queue FIFO and go to whichever worker
 * is idle, so the event loop that submits them stays free while they run. A worker that dies (a
 * native crash, `process.exit`, an uncaught error) fails only the job it held, with an error naming
 * the pool and the exit, and is replaced; a worker that cannot even start `maxFailedStarts` times in a
 * row marks the pool broken and every job is refused with the last reason. `close()` terminates every
 * thread and refuses what was queued.
 */
export class WorkerPool<Info = unknown> {
  readonly label: string;
  readonly size: number;
  /** What the first worker reported when it became ready (e.g. a session's output names). */
  readonly info: Info;
  readonly #o: WorkerPoolOptions;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed: Promise<void> | undefined;
  #nextId = 1;
  #nextControl = 1;
  readonly #controls = new Map<number, Control>();
  /** Broadcasts that fail when a worker exits before answering them. */
  readonly #failOnExit = new Map<number, boolean>();
  #failedStarts = 0;
  #broken: string | undefined;
  #closing = false;
  /** Workers replaced after dying; for metrics and tests. */
  respawns = 0;

  private constructor(options: WorkerPoolOptions, info: Info) {
    this.#o = options;
    this.label = options.label;
    this.size = options.size;
    this.info = info;
  }

  /** Starts `size` workers and resolves once all are ready; if one fails, stops the rest and throws its reason. */
  static async start<Info>(options: WorkerPoolOptions): Promise<WorkerPool<Info>> {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new Error(`${options.label}: worker pool size ${options.size} is not a positive integer`);
    const starting = Array.from({ length: options.size }, () => startWorker<Info>(options));
    const settled = await Promise.allSettled(starting.map((s) => s.ready));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      const grace = options.stopGraceMs ?? STOP_GRACE_MS;
      await Promise.all(starting.map((s) => stopWorker(s.worker, s.exited, grace)));
      throw failed.reason;
    }
    const pool = new WorkerPool<Info>(options, (settled[0] as PromiseFulfilledResult<Info>).value);
    for (const s of starting) pool.#adopt(s.worker, true, s.exited);
    return pool;
  }

  /** Threads alive now (ready, busy or starting). */
  get threads(): number {
    return this.#slots.size;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Runs one job on the next idle worker. `transfer` moves those buffers to it instead of copying them;
   * `label` names what the job runs in its errors (default: the pool's label).
   */
  run<Result>(
    job: unknown,
    transfer: readonly Transferable[] = [],
    options: { label?: string } = {},
  ): Promise<Result> {
    if (this.#closing)
      return Promise.reject(new HexEdgeError('MODEL_NOT_READY', `${this.label} is shutting down`));
    if (this.#broken) return Promise.reject(this.#brokenError());
    return new Promise<Result>((resolve, reject) => {
      this.#queue.push({
        job,
        transfer,
        label: options.label ?? this.label,
        resolve: resolve as (r: unknown) => void,
        reject,
      });
      this.#dispatch();
    });
  }

  /**
   * Posts `message` to every worker (starting ones too; a busy one answers beside its job) and resolves
   * with their answers once each has answered. A worker that exits first is left out, or, with
   * `failOnExit`, fails the broadcast (a message that may have killed it). Rejects with the first
   * worker's error. Workers started later get only their `workerData`.
   */
  broadcast<Result>(message: unknown, options: { failOnExit?: boolean } = {}): Promise<Result[]> {
    if (this.#closing)
      return Promise.reject(new HexEdgeError('MODEL_NOT_READY', `${this.label} is shutting down`));
    if (this.#broken) return Promise.reject(this.#brokenError());
    const control = this.#nextControl++;
    return new Promise<Result[]>((resolve, reject) => {
      const entry: Control = {
        waiting: new Set(this.#slots),
        results: [],
        resolve: resolve as (r: unknown[]) => void,
        reject,
      };
      this.#failOnExit.set(control, options.failOnExit ?? false);
      this.#controls.set(control, entry);
      for (const slot of this.#slots) {
        slot.controls.add(control);
        slot.worker.ref();
        slot.worker.postMessage({ control, message });
      }
      this.#settleControl(control);
    });
  }
  /** Resolves a broadcast once no worker is left to answer it. */
  #settleControl(control: number): void {
    const entry = this.#controls.get(control);
    if (!entry || entry.waiting.size > 0) return;
    this.#controls.delete(control);
    this.#failOnExit.delete(control);
    entry.resolve(entry.results);
  }

  /** A worker's answer to (or exit during) a broadcast. */
  #answerControl(
    slot: Slot,
    control: number,
    answer: { result?: unknown; error?: string; exited?: string },
  ): void {
    slot.controls.delete(control);
    if (!slot.current && slot.controls.size === 0) slot.worker.unref();
    const entry = this.#controls.get(control);
    if (!entry || !entry.waiting.delete(slot)) return;
    const error =
      answer.error ??
      (answer.exited && this.#failOnExit.get(control) ? `the worker ${answer.exited}` : undefined);
    if (error !== undefined) {
      this.#controls.delete(control);
      this.#failOnExit.delete(control);
      entry.reject(new Error(error));
      return;
    }
    if (!answer.exited) entry.results.push(answer.result);
    this.#settleControl(control);
  }

  /** Terminates every worker (waiting for their threads to end) and refuses queued and running jobs. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const refused = new HexEdgeError('MODEL_NOT_READY', `${this.label} is shutting down`);
    for (const job of this.#queue.splice(0)) job.reject(refused);
    for (const entry of this.#controls.values()) entry.reject(refused);
    this.#controls.clear();
    this.#failOnExit.clear();
    const grace = this.#o.stopGraceMs ?? STOP_GRACE_MS;
    const stops: Promise<void>[] = [];
    for (const slot of this.#slots) {
      slot.current?.reject(refused);
      slot.current = undefined;
      stops.push(stopWorker(slot.worker, slot.exited, grace));
    }
    await Promise.all(stops);
  }

  #adopt(
    worker: Worker,
    ready = true,
    exited = new Promise<void>((resolve) => worker.once('exit', () => resolve())),
  ): Slot {
    const slot: Slot = { worker, ready, current: undefined, controls: new Set(), exited };
    this.#slots.add(slot);
    let lastError: Error | undefined;
    worker.on('error', (err) => (lastError = err));
    worker.on('message', (m: WorkerReply<Info, unknown>) => this.#onMessage(slot, m));
    worker.once('exit', (code) => this.#onExit(slot, code, lastError));
    // An idle pool does not keep the process alive; a running job (see #dispatch) or a replacement
    // still starting does. After the listeners: adding a 'message' listener refs the port again.
    if (ready) worker.unref();
    return slot;
  }

  #onMessage(slot: Slot, m: WorkerReply<Info, unknown>): void {
    if ('control' in m) {
      this.#answerControl(slot, m.control, m.error !== undefined ? { error: m.error } : { result: m.result });
      return;
    }
    if ('type' in m) {
      if (m.type === 'ready') {
        slot.ready = true;
        this.#failedStarts = 0;
        this.#dispatch();
        if (!slot.current && slot.controls.size === 0) slot.worker.unref();
      } else {
        slot.failure = m.error;
      }
      return;
    }
    const job = slot.current;
    if (!job || job.id !== m.id) return;
    slot.current = undefined;
    if (slot.controls.size === 0) slot.worker.unref();
    if (m.error !== undefined) job.reject(new Error(`${job.label}: ${m.error}`));
    else job.resolve(m.result);
    this.#dispatch();
  }

  #onExit(slot: Slot, code: number, err: Error | undefined): void {
    this.#slots.delete(slot);
    if (this.#closing) return;
    const why = `exited with code ${code}${slot.failure ? ` (${slot.failure})` : err ? ` (${err.message})` : ''}`;
    if (slot.current) {
      slot.current.reject(
        new HexEdgeError(
          'INTERNAL',
          `${slot.current.label}: the inference worker ${why} during this run; it is being replaced`,
        ),
      );
      slot.current = undefined;
    }
    // Settled before the replacement is started (a timer, later): a broadcast that failed on this exit
    // can take back what it added to `workerData` first.
    for (const control of [...slot.controls]) this.#answerControl(slot, control, { exited: why });
    if (!slot.ready) this.#failedStarts++;
    if (this.#failedStarts >= (this.#o.maxFailedStarts ?? 3)) {
      this.#o.log?.(
        `${this.label}: inference workers died before they were ready ${this.#failedStarts} times in a row (last: ${why}); not restarting`,
      );
      if (this.#slots.size === 0 && this.#timers.size === 0) {
        this.#broken = `its inference workers died before they were ready ${this.#failedStarts} times in a row (last: ${why})`;
        this.#refuseQueued();
      }
      return;
    }
    this.#o.log?.(`${this.label}: inference worker ${why}; starting a replacement`);
    const delayMs = this.#failedStarts === 0 ? 0 : RESPAWN_BACKOFF_MS * 2 ** (this.#failedStarts - 1);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#closing) return;
      this.respawns++;
      this.#adopt(new Worker(this.#o.script, { workerData: dataOf(this.#o) }), false);
    }, delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.ready || slot.current) continue;
      const job = { ...this.#queue.shift()!, id: this.#nextId++ };
      slot.current = job;
      slot.worker.ref();
      try {
        slot.worker.postMessage({ id: job.id, job: job.job }, [...job.transfer]);
      } catch (err) {
        // Data that cannot cross (a DataCloneError): this job fails, the worker stays idle.
        slot.current = undefined;
        if (slot.controls.size === 0) slot.worker.unref();
        job.reject(err);
      }
    }
  }

  #brokenError(): HexEdgeError {
    return new HexEdgeError('MODEL_NOT_READY', `${this.label} cannot run: ${this.#broken}`);
  }

  #refuseQueued(): void {
    const err = this.#brokenError();
    for (const job of this.#queue.splice(0)) job.reject(err);
  }
}
