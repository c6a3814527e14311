import type { Caller } from './infer/infer-ports.ts';
import type { ObservedNodeFault } from './infer/node-fault.ts';
import type { Sha256Hex, InferRequest, InferResponse, NodeKeyPair } from '@hexedge/protocol';
import { FaultFold } from './oracle-fault-fold.ts';
import { postReports, signQueuedBatch, type Queued } from './oracle-post.ts';
import { DEFAULT_NOT_KNOWN_GIVE_UP_MS, NotKnownBackoff } from './oracle-retry.ts';

/** Answers waiting to be forwarded; past this the newest are dropped (counted), never the request. */
export const DEFAULT_FORWARD_QUEUE = 1000;
/** Reports per post to the oracle (its ingest takes up to MAX_REPORTS_PER_POST). */
export const DEFAULT_FORWARD_BATCH = 100;
export const DEFAULT_FORWARD_INTERVAL_MS = 1000;
/**
 * How long a stopping gateway waits for its last reports to reach the oracle: one slow post
 * (POST_TIMEOUT_MS, oracle-post.ts) and some; a full queue (DEFAULT_FORWARD_QUEUE / DEFAULT_FORWARD_BATCH = 10 posts)
 * takes milliseconds each at a running oracle. Past it the rest is counted and logged as not delivered.
 */
export const DEFAULT_FORWARD_STOP_TIMEOUT_MS = 15_000;

/** A stop under way: its deadline's timer, and the dropped count when it began (to tell what it lost). */
interface Stopping {
  timer: ReturnType<typeof setTimeout>;
  timeoutMs: number;
  dropped: number;
}

/**
 * Forwards every answered inference, with its checked receipt, to the coverage oracle for sampled
 * spot checks and rewards: signed `receipt` reports (kind 'report', by the gateway's report key),
 * batched and batch-signed (one root signature per post, each report with its proof: v2), posted in
 * the background. `onAnswered` only queues, so it can neither slow nor fail a
 * request; a full queue or an unreachable oracle loses reports (counted in `stats`), not answers.
 * Reports the oracle refuses only because it does not know this gateway's report key yet are kept
 * and sent again with backoff (oracle-retry.ts); any other refusal is final and logged.
 */
export class ReceiptForwarder {
  readonly #oracleUrl: string;
  readonly #keys: NodeKeyPair;
  readonly #fetch: typeof fetch;
  readonly #maxQueued: number;
  readonly #batchSize: number;
  readonly #log: (message: string) => void;
  readonly #sha256: Sha256Hex | undefined;
  readonly #queue: Queued[] = [];
  /** Node faults since the last flush, folded per (node, kind). */
  readonly #faults = new FaultFold();
  /** `held`: reports kept for a retry because the oracle did not know the report key yet (each time). */
  readonly stats = {
    queued: 0,
    forwarded: 0,
    dropped: 0,
    refused: 0,
    held: 0,
    failedPosts: 0,
    faults: 0,
  };
  readonly #notKnown: NotKnownBackoff;
  readonly #giveUpMs: number;
  #flushing: Promise<void> | undefined;
  /** Aborts the post in flight and what is left once the stop deadline passes. */
  readonly #stopDeadline = new AbortController();
  /** Set when stopping began: the deadline's timer and the counters then, to tell what the stop lost. */
  #stopping: Stopping | undefined;
  #closed = false;
  #lateAnswers = 0;
  /** Reports dropped on a full queue since the last flush began (logged then). */
  #overflowed = 0;

  constructor(options: {
    oracleUrl: string;
    keys: NodeKeyPair;
    fetch?: typeof fetch;
    maxQueued?: number;
    batchSize?: number;
    log?: (m: string) => void;
    /** SHA-256 for the batch tree (the Node adapter's); WebCrypto's when absent. */
    sha256?: Sha256Hex;
    /** Waits before resending reports the oracle did not know the key of yet (oracle-retry's defaults). */
    notKnownRetry?: { initialMs?: number; maxMs?: number; giveUpMs?: number };
  }) {
    this.#oracleUrl = options.oracleUrl;
    this.#keys = options.keys;
    // Not the global `fetch` itself: called as this object's method, workerd refuses it ("Illegal
    // invocation": fetch must be called with the global scope as `this`).
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#maxQueued = options.maxQueued ?? DEFAULT_FORWARD_QUEUE;
    this.#batchSize = options.batchSize ?? DEFAULT_FORWARD_BATCH;
    this.#log = options.log ?? (() => {});
    this.#sha256 = options.sha256;
    const retry = options.notKnownRetry ?? {};
    this.#notKnown = new NotKnownBackoff(retry);
    this.#giveUpMs = retry.giveUpMs ?? DEFAULT_NOT_KNOWN_GIVE_UP_MS;
  }

  /** The hook InferService calls after a checked answer: queues it, never throws. */
  onAnswered = (request: InferRequest, response: InferResponse, caller?: Caller): void => {
    this.#enqueue({
      kind: 'receipt',
      answered: { request, response, ...(caller?.region ? { digestsOnly: true } : {}) },
    });
  };

  /**
   * The hook InferService calls for each node fault it judged: folded per (node, kind) until the next
   * flush, so a black-hole node failing every request costs one report per flush, not one per request.
   */
  onNodeFault = (fault: ObservedNodeFault): void => {
    if (this.#closed) {
      this.stats.dropped++;
      return;
    }
    if (!this.#faults.add(fault)) this.stats.dropped++;
  };

  #enqueue(item: Queued): void {
    if (this.#closed) {
      // An answer finished after the last flush (an ingress let it through while closing): said, not lost silently.
      this.stats.dropped++;
      if (this.#lateAnswers++ === 0)
        this.#log(`receipt forwarding stopped: a report came after the last flush and is not delivered`);
      return;
    }
    if (this.#queue.length >= this.#maxQueued) {
      // The oracle is not keeping up (or not there): said at the first report lost, and how many at the next flush.
      this.stats.dropped++;
      if (this.#overflowed++ === 0)
        this.#log(
          `receipt forwarding: queue full (${this.#maxQueued} reports), reports are dropped until the oracle takes some`,
        );
      return;
    }
    this.#queue.push(item);
    this.stats.queued++;
    if (this.#queue.length >= this.#batchSize) void this.flush();
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  /** Reports and folded node faults not yet posted (what a flush would send). */
  get pending(): number {
    return this.#queue.length + this.#faults.size;
  }

  /** Posts what is queued, batch by batch; concurrent calls share one flush. */
  flush(): Promise<void> {
    // The drain starts a microtask later, once this flush is the one shared: what it queues and what
    // fills a batch meanwhile joins it instead of starting a second drain over the same fold.
    this.#flushing ??= Promise.resolve()
      .then(() => this.#drain())
      .finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /**
   * Flushes every `intervalMs` until `signal` aborts, then closes (the last flush, `close`): resolves
   * once the last reports reached the oracle, or `stopTimeoutMs` after the signal. The deadline starts
   * at the signal, so a post already in flight then is bounded by it too.
   */
  async run(
    signal: AbortSignal,
    options: { intervalMs?: number; stopTimeoutMs?: number } = {},
  ): Promise<void> {
    const intervalMs = options.intervalMs ?? DEFAULT_FORWARD_INTERVAL_MS;
    const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_FORWARD_STOP_TIMEOUT_MS;
    const onAbort = () => this.#startStopping(stopTimeoutMs);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    while (!signal.aborted) {
      await this.flush();
      // The signal may have come during the flush: its abort event is gone then, so look first.
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalMs);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
    await this.close({ timeoutMs: stopTimeoutMs });
  }

  /**
   * The last flush, at shutdown: posts everything still queued (answers and folded node faults) and
   * resolves once the oracle has answered, or at the deadline (`timeoutMs` from when stopping began),
   * when the post in flight is aborted and the rest given up. Reports that did not reach the oracle
   * (failed posts, given up at the deadline) are counted in one log line, never lost silently; a report
   * queued after this is refused and said so. Returns what this stop delivered and lost.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<{ undelivered: number }> {
    const stopping = this.#startStopping(options.timeoutMs ?? DEFAULT_FORWARD_STOP_TIMEOUT_MS);
    try {
      await this.flush();
    } finally {
      clearTimeout(stopping.timer);
      this.#closed = true;
    }
    const undelivered = this.stats.dropped - stopping.dropped;
    if (undelivered > 0) {
      const why = this.#stopDeadline.signal.aborted
        ? `the oracle did not take them within ${stopping.timeoutMs} ms`
        : 'its posts failed, see above';
      this.#log(
        `receipt forwarding stopped: ${undelivered} report(s) not delivered to ${this.#oracleUrl} (${why})`,
      );
    }
    return { undelivered };
  }

  #startStopping(timeoutMs: number): Stopping {
    this.#stopping ??= {
      timer: setTimeout(() => this.#stopDeadline.abort(), timeoutMs),
      timeoutMs,
      dropped: this.stats.dropped,
    };
    return this.#stopping;
  }

  async #drain(): Promise<void> {
    if (this.#overflowed > 0) {
      this.#log(`receipt forwarding: ${this.#overflowed} report(s) dropped while the queue was full`);
      this.#overflowed = 0;
    }
    // Taken out of the fold before they are queued: each folded fault is queued by one flush, once.
    const faults = [...this.#faults.values()];
    this.#faults.clear();
    for (const body of faults) {
      this.#enqueue({ kind: 'fault', body });
      this.stats.faults++;
    }
    while (this.#queue.length > 0) {
      if (this.#stopDeadline.signal.aborted) {
        // Stopping, past the deadline: what is left is given up (counted; `close` says how many).
        this.stats.dropped += this.#queue.length;
        this.#queue.length = 0;
        break;
      }
      if (this.#notKnown.waitMs > 0) {
        // The oracle did not know this gateway's report key: everything queued waits for the retry;
        // a stopping forwarder waits for it too, until its deadline.
        if (!this.#stopping) return;
        await this.#untilRetry();
        continue;
      }
      const batch = this.#queue.splice(0, this.#batchSize);
      let reports: unknown[];
      try {
        reports = await signQueuedBatch(batch, { keys: this.#keys, sha256: this.#sha256 });
      } catch (err) {
        this.stats.dropped += batch.length;
        this.#log(`receipt forwarding: cannot build reports: ${(err as Error).message}`);
        continue;
      }
      try {
        const verdict = await postReports({
          fetch: this.#fetch,
          oracleUrl: this.#oracleUrl,
          reports,
          count: batch.length,
          stopSignal: this.#stopDeadline.signal,
        });
        this.stats.forwarded += verdict.accepted;
        this.stats.refused += verdict.refused;
        // A refusal loses those reports (and the nodes' rewards for them): said, with the oracle's first reason.
        if (verdict.refused > 0) {
          const first = verdict.firstRefusal;
          this.#log(
            `receipt forwarding: the oracle refused ${verdict.refused} of ${batch.length} report(s)${first ? `: ${first.code}: ${first.message}` : ''}`,
          );
        }
        if (verdict.held.length > 0) {
          this.#hold(
            verdict.held.map((i) => batch[i]!),
            verdict.firstRefusal,
          );
          continue;
        }
        if (this.#notKnown.attempts > 0)
          this.#log(`receipt forwarding: the oracle takes this gateway's reports again`);
        this.#notKnown.reset();
      } catch (err) {
        // Not retried: a report re-signed later would be judged late, and the oracle samples anyway.
        this.stats.failedPosts++;
        this.stats.dropped += batch.length;
        this.#log(
          `receipt forwarding to ${this.#oracleUrl} failed (${batch.length} report(s) not delivered): ${(err as Error).message}`,
        );
      }
    }
  }

  /**
   * Reports the oracle refused only because it does not know this gateway's report key yet (a gateway
   * it has not read since it started or changed its key): back at the head of the queue, re-signed
   * when sent again, within the queue's bound (past it the newest are dropped, as ever). One held
   * longer than the give-up bound is refused for good and said.
   */
  #hold(items: Queued[], why: { code?: string; message?: string } | undefined): void {
    const nowMs = Date.now();
    const kept = items.filter((item) => nowMs - (item.notKnownSinceMs ??= nowMs) < this.#giveUpMs);
    const givenUp = items.length - kept.length;
    if (givenUp > 0) {
      this.stats.refused += givenUp;
      this.#log(
        `receipt forwarding: gave up ${givenUp} report(s) after ${this.#giveUpMs} ms: the oracle does not know report key ${this.#keys.nodeId}${why ? ` (${why.code}: ${why.message})` : ''}`,
      );
    }
    this.#queue.unshift(...kept);
    this.stats.held += kept.length;
    const over = this.#queue.length - this.#maxQueued;
    if (over > 0) {
      this.#queue.length = this.#maxQueued;
      this.stats.dropped += over;
    }
    const waitMs = this.#notKnown.hold();
    if (this.#notKnown.attempts === 1 && kept.length > 0)
      this.#log(
        `receipt forwarding: the oracle does not know report key ${this.#keys.nodeId} yet: ${kept.length} report(s) kept, sent again in ${waitMs} ms, waits doubling, given up after ${this.#giveUpMs} ms${why ? `: ${why.code}: ${why.message}` : ''}`,
      );
  }

  /** Until the retry is due, or the stop's deadline passes (the loop then gives up what is left). */
  #untilRetry(): Promise<void> {
    const signal = this.#stopDeadline.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => (clearTimeout(timer), signal.removeEventListener('abort', done), resolve());
      const timer = setTimeout(done, this.#notKnown.waitMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
