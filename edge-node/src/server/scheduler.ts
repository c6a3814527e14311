import { DEFAULT_PRIORITY, type Priority, type Tensor } from '@hexedge/protocol';
import type { LoadedModel } from '../backends/backend.ts';
import { PriorityLanes, queueLimitsFor, type QueueLimits } from '../scheduler/priority-lanes.ts';
import { admissionError, deadlineExceeded } from '../scheduler/admission.ts';
import { batchKey, concatOnDim0, splitOnDim0 } from './batch-tensors.ts';
import { getQueueWaiter, type QueueWaiter } from './queue-wait.ts';

/** Weight of the newest sample in the service-time EWMA (about the last 10 batches). */
const EWMA_ALPHA = 0.2;

export interface SchedulerOptions {
  /** Most rows (dim 0) joined into one run; 1 turns dynamic batching off. */
  maxBatchSize: number;
  /**
   * Longest a request waits for company before its batch runs anyway (Triton's max_queue_delay), while
   * the model is busy (a run in flight on another session). An idle model does not wait: it runs what
   * arrived in the current event-loop turn at the end of that turn.
   */
  maxQueueDelayUs: number;
  /** Requests waiting beyond this are refused with 503 OVERLOADED: memory stays bounded. */
  maxQueueSize: number;
  /** Per-priority admission limits (requests queued in all); derived from maxQueueSize when absent. */
  queueLimits?: QueueLimits;
  /** Times sub-millisecond queue delays (queue-wait.ts); default: the one the Node listener installs, else event-loop turns. */
  queueWaiter?: QueueWaiter;
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

/** What a request asks of the scheduler: its level and the budget it has left (from the gateway). */
export interface SubmitOptions {
  priority?: Priority;
  /** The request's remaining budget: refused at once when the expected wait exceeds it, dropped when it passes in the queue. */
  deadlineMs?: number;
}

interface Pending {
  priority: Priority;
  deadlineTimer: ReturnType<typeof setTimeout> | undefined;
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
 * waited out a run). A model with no run in flight runs what arrived in the current event-loop turn
 * at the end of that turn: with nothing in flight there is no load to wait out, and a lone request
 * (an IoT device, a caller at concurrency 1) would only pay the delay. While some of its sessions are
 * busy, the oldest request waits at most `maxQueueDelayUs` for company before an idle one takes it.
 * Under load, batches form while runs are in flight (the run's end takes what queued). Models whose manifest is not batchable (stateful ones such as Silero VAD) run one request
 * at a time.
 */
export class ModelScheduler {
  readonly model: LoadedModel;
  readonly #o: SchedulerOptions;
  readonly #queue: PriorityLanes<Pending>;
  readonly #maxRuns: number;
  #runs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  /** An idle model's run at the end of this event-loop turn (requests of the same turn join it). */
  #turnEnd: ReturnType<typeof setImmediate> | undefined;
  #cancelWaiter: (() => void) | undefined;
  inFlight = 0;
  ewmaServiceMs = 0;

  constructor(model: LoadedModel, options: SchedulerOptions) {
    this.model = model;
    this.#o = model.manifest.batchable ? options : { ...options, maxBatchSize: 1 };
    // A stateless model's sessions are independent; a stateful one's pipeline needs its runs in order.
    this.#maxRuns = model.manifest.batchable ? Math.max(1, model.maxConcurrentRuns ?? 1) : 1;
    this.#queue = new PriorityLanes(options.queueLimits ?? queueLimitsFor(options.maxQueueSize));
  }

  get queueDepth(): number {
    return this.#queue.size;
  }

  /** Queued requests per priority level. */
  queuedAt(priority: Priority): number {
    return this.#queue.sizeOf(priority);
  }

  /** Expected wait for a new request (of `priority`: behind its level and those above), for Retry-After and placement's queue estimate. */
  expectedWaitMs(priority?: Priority): number {
    const ahead = priority ? this.#queue.aheadOf(priority) : this.#queue.size;
    return Math.ceil((ahead / this.#o.maxBatchSize + 1) * Math.max(this.ewmaServiceMs, 1));
  }

  /**
   * Queues a request at its priority (default normal). Refused at once with 503 OVERLOADED and a
   * Retry-After when its level's admission limit is reached (lower levels are refused first) or when
   * the expected wait already exceeds its deadline; a request whose deadline passes while it is
   * queued is dropped with 504 DEADLINE_EXCEEDED (a run that started is not interrupted).
   */
  submit(inputs: Tensor[], outputNames?: string[], options: SubmitOptions = {}): Promise<ScheduledResult> {
    const priority = options.priority ?? DEFAULT_PRIORITY;
    const refusal = admissionError({
      model: this.model.manifest.name,
      priority,
      queued: this.#queue.size,
      limits: this.#queue.limits,
      admitted: this.#queue.admits(priority),
      expectedWaitMs: this.expectedWaitMs(priority),
      measured: this.ewmaServiceMs > 0,
      ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    });
    if (refusal) throw refusal;
    const rows = inputs[0]?.shape[0] ?? 1;
    const sameRows = inputs.every((t) => t.shape[0] === rows);
    const canBatch = this.#o.maxBatchSize > 1 && sameRows && rows <= this.#o.maxBatchSize;
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        priority,
        deadlineTimer: undefined,
        inputs,
        outputNames,
        // A request that cannot join others gets a key of its own.
        key: canBatch ? batchKey(inputs, outputNames) : `solo:${Math.random()}`,
        rows: canBatch ? rows : this.#o.maxBatchSize,
        enqueuedAt: performance.now(),
        resolve,
        reject,
      };
      this.#queue.push(pending);
      if (options.deadlineMs !== undefined) {
        const deadlineMs = options.deadlineMs;
        pending.deadlineTimer = setTimeout(() => {
          // Still queued: nobody waits for the answer any more, so it is not run at all.
          if (this.#queue.remove(pending))
            reject(deadlineExceeded({ model: this.model.manifest.name, deadlineMs, priority }));
        }, deadlineMs);
      }
      this.#pump();
    });
  }

  /**
   * `now`: a run just ended (what queued during it waited out that run) or an idle model's turn
   * ended, so what is queued goes at once, without a queue delay.
   */
  #pump(now = false): void {
    while (this.#runs < this.#maxRuns && this.#queue.size > 0) {
      if (!now) {
        const oldest = this.#queue.first()!;
        const full = this.#queue.rowsWithKey(oldest.key) >= this.#o.maxBatchSize;
        if (!full && this.#runs === 0) {
          this.#atTurnEnd();
          return;
        }
        const waitedUs = (performance.now() - oldest.enqueuedAt) * 1000;
        if (!full && waitedUs < this.#o.maxQueueDelayUs) {
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
   * (setImmediate: other requests' I/O is handled in between) until the delay has passed — unless a
   * queue waiter is installed (on Node, one timed on a thread), which lets the loop sleep meanwhile.
   */
  #wait(remainingUs: number): void {
    if (this.#timer || this.#immediate || this.#cancelWaiter) return;
    const waiter = this.#o.queueWaiter ?? getQueueWaiter();
    if (waiter && remainingUs < 1000) {
      this.#cancelWaiter = waiter(remainingUs, () => {
        this.#cancelWaiter = undefined;
        this.#pump();
      });
    } else if (remainingUs >= 1000) {
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

  /** Runs what is queued at the end of this event-loop turn, once however many requests arrive in it. */
  #atTurnEnd(): void {
    if (this.#turnEnd) return;
    this.#turnEnd = setImmediate(() => {
      this.#turnEnd = undefined;
      this.#pump(true);
    });
  }

  #cancelWait(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    if (this.#turnEnd) clearImmediate(this.#turnEnd);
    this.#turnEnd = undefined;
    this.#cancelWaiter?.();
    this.#cancelWaiter = undefined;
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  /** The highest level's oldest request and what can join it (priority-lanes.ts). */
  #takeBatch(): Pending[] {
    const batch = this.#queue.take(this.#queue.first()!.key, this.#o.maxBatchSize);
    for (const p of batch) clearTimeout(p.deadlineTimer);
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
