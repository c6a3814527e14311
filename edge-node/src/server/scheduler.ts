import { HexEdgeError, type Tensor } from '@hexedge/protocol';
import type { LoadedModel } from '../backends/backend.ts';
import { batchKey, concatOnDim0, splitOnDim0 } from './batch-tensors.ts';

/** Weight of the newest sample in the service-time EWMA (about the last 10 batches). */
const EWMA_ALPHA = 0.2;

export interface SchedulerOptions {
  /** Most rows (dim 0) joined into one run; 1 turns dynamic batching off. */
  maxBatchSize: number;
  /** Longest a request waits for company before its batch runs anyway (Triton's max_queue_delay). */
  maxQueueDelayUs: number;
  /** Requests waiting beyond this are refused with 503 OVERLOADED: memory stays bounded. */
  maxQueueSize: number;
  onBatch?: (info: {
    model: string;
    version: string;
    size: number;
    requests: number;
    serviceTimeMs: number;
  }) => void;
}

export const DEFAULT_SCHEDULER: SchedulerOptions = {
  maxBatchSize: 32,
  maxQueueDelayUs: 500,
  maxQueueSize: 512,
};

export interface ScheduledResult {
  outputs: Tensor[];
  serviceTimeMs: number;
  queueMs: number;
  batchSize: number;
}

interface Pending {
  inputs: Tensor[];
  outputNames: string[] | undefined;
  key: string;
  rows: number;
  enqueuedAt: number;
  resolve: (r: ScheduledResult) => void;
  reject: (e: unknown) => void;
}

/**
 * One model's request queue, as Triton's dynamic batcher: requests with compatible shapes are joined
 * on dim 0 up to `maxBatchSize`. Up to the model's `maxConcurrentRuns` (its worker threads; 1 for a
 * session on the event loop) runs are in flight; requests arriving meanwhile queue, and when a run
 * ends the next batch takes everything compatible that queued, at once (those requests already
 * waited out a run). Otherwise the oldest request waits at most `maxQueueDelayUs` for company before
 * an idle session takes it. Models whose manifest is not batchable (stateful ones such as Silero VAD) run one request
 * at a time.
 */
export class ModelScheduler {
  readonly model: LoadedModel;
  readonly #o: SchedulerOptions;
  readonly #queue: Pending[] = [];
  readonly #maxRuns: number;
  #runs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  inFlight = 0;
  ewmaServiceMs = 0;

  constructor(model: LoadedModel, options: SchedulerOptions) {
    this.model = model;
    this.#o = model.manifest.batchable ? options : { ...options, maxBatchSize: 1 };
    // A stateless model's sessions are independent; a stateful one's pipeline needs its runs in order.
    this.#maxRuns = model.manifest.batchable ? Math.max(1, model.maxConcurrentRuns ?? 1) : 1;
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  /** Expected wait for a new request, for Retry-After and for placement's queue estimate. */
  expectedWaitMs(): number {
    return Math.ceil((this.#queue.length / this.#o.maxBatchSize + 1) * Math.max(this.ewmaServiceMs, 1));
  }

  submit(inputs: Tensor[], outputNames?: string[]): Promise<ScheduledResult> {
    if (this.#queue.length >= this.#o.maxQueueSize) {
      const retryAfterMs = this.expectedWaitMs();
      throw new HexEdgeError(
        'OVERLOADED',
        `model ${this.model.manifest.name} has ${this.#queue.length} requests queued (limit ${this.#o.maxQueueSize}); retry later`,
        {
          retryAfterMs,
        },
      );
    }
    const rows = inputs[0]?.shape[0] ?? 1;
    const sameRows = inputs.every((t) => t.shape[0] === rows);
    const canBatch = this.#o.maxBatchSize > 1 && sameRows && rows <= this.#o.maxBatchSize;
    return new Promise((resolve, reject) => {
      this.#queue.push({
        inputs,
        outputNames,
        // A request that cannot join others gets a key of its own.
        key: canBatch ? batchKey(inputs, outputNames) : `solo:${Math.random()}`,
        rows: canBatch ? rows : this.#o.maxBatchSize,
        enqueuedAt: performance.now(),
        resolve,
        reject,
      });
      this.#pump();
    });
  }

  /** `afterRun`: a run just ended, so what queued during it goes at once, without a queue delay. */
  #pump(afterRun = false): void {
    while (this.#runs < this.#maxRuns && this.#queue.length > 0) {
      if (!afterRun) {
        const oldest = this.#queue[0]!;
        const queuedRows = this.#queue.reduce((n, p) => (p.key === oldest.key ? n + p.rows : n), 0);
        const waitedUs = (performance.now() - oldest.enqueuedAt) * 1000;
        if (queuedRows < this.#o.maxBatchSize && waitedUs < this.#o.maxQueueDelayUs) {
          this.#wait(this.#o.maxQueueDelayUs - waitedUs);
          return;
        }
      }
      this.#cancelWait();
      void this.#runBatch(this.#takeBatch());
    }
  }

  /**
   * Waits for company. Node rounds any timer below 1 ms up to 1 ms, which would make a 250 µs queue
   * delay cost a millisecond, so sub-millisecond waits re-check on each turn of the event loop
   * (setImmediate: other requests' I/O is handled in between) until the delay has passed.
   */
  #wait(remainingUs: number): void {
    if (this.#timer || this.#immediate) return;
    if (remainingUs >= 1000) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, remainingUs / 1000);
    } else {
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined;
        this.#pump();
      });
    }
  }

  #cancelWait(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #takeBatch(): Pending[] {
    const key = this.#queue[0]!.key;
    const batch: Pending[] = [];
    let rows = 0;
    for (let i = 0; i < this.#queue.length && rows < this.#o.maxBatchSize;) {
      const p = this.#queue[i]!;
      if (p.key === key && rows + p.rows <= this.#o.maxBatchSize) {
        batch.push(p);
        rows += p.rows;
        this.#queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    this.#runs++;
    this.inFlight += batch.length;
    const started = performance.now();
    try {
      const first = batch[0]!;
      const inputs = first.inputs.map((t, i) => concatOnDim0(batch.map((p) => p.inputs[i]!)));
      // Joined tensors are this run's own buffers: a backend on another thread may take them.
      const outputs = await this.model.run(inputs, first.outputNames, { transferInputs: batch.length > 1 });
      const serviceTimeMs = performance.now() - started;
      this.ewmaServiceMs =
        this.ewmaServiceMs === 0
          ? serviceTimeMs
          : this.ewmaServiceMs + EWMA_ALPHA * (serviceTimeMs - this.ewmaServiceMs);
      const rows = batch.map((p) => p.inputs[0]?.shape[0] ?? 1);
      const perRequest = batch.length === 1 ? [outputs] : batch.map(() => [] as Tensor[]);
      if (batch.length > 1)
        for (const out of outputs) splitOnDim0(out, rows).forEach((t, i) => perRequest[i]!.push(t));
      this.#o.onBatch?.({
        model: this.model.manifest.name,
        version: this.model.manifest.version,
        size: rows.reduce((a, b) => a + b, 0),
        requests: batch.length,
        serviceTimeMs,
      });
      batch.forEach((p, i) =>
        p.resolve({
          outputs: perRequest[i]!,
          serviceTimeMs,
          queueMs: started - p.enqueuedAt,
          batchSize: batch.length,
        }),
      );
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight -= batch.length;
      this.#runs--;
      this.#pump(true);
    }
  }
}
