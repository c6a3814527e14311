import type { ReceiptForwarder } from '../oracle-forwarder.ts';

/** How long reports gather in an isolate before a post: answers of the same moment go in one batch. */
export const WORKER_REPORT_DELAY_MS = 250;
/**
 * Flushes one scheduled task makes at most. A flush that leaves reports (more than a batch, or held
 * while the oracle learns this gateway's key) is followed by another; bounded so the task stays well
 * inside the 30 s a Worker may run after its response.
 */
const MAX_FLUSHES_PER_TASK = 40;

/**
 * Receipt reports from a Worker isolate to the coverage oracle. On Node the ReceiptForwarder flushes
 * on its own timer (`run`); an isolate runs only while it serves a request, or while a promise given
 * to `ctx.waitUntil` is pending. So after each request that left reports waiting, one task is
 * scheduled with waitUntil: it waits WORKER_REPORT_DELAY_MS, posts what has gathered (the forwarder's
 * batch-signed reports), and goes on while reports remain. Reports live in the isolate's memory until
 * then: an isolate that is killed (a deploy, a crash) loses those of its last ~quarter second.
 */
export class WorkerReportFlusher {
  readonly #forwarder: ReceiptForwarder;
  readonly #delayMs: number;
  #scheduled = false;

  constructor(forwarder: ReceiptForwarder, options: { delayMs?: number } = {}) {
    this.#forwarder = forwarder;
    this.#delayMs = options.delayMs ?? WORKER_REPORT_DELAY_MS;
  }

  /** Called after each request: schedules a flush when reports wait and none is scheduled. */
  afterRequest(ctx: { waitUntil(task: Promise<unknown>): void }): void {
    if (this.#scheduled || this.#forwarder.pending === 0) return;
    this.#scheduled = true;
    ctx.waitUntil(this.#flushSoon());
  }

  async #flushSoon(): Promise<void> {
    try {
      for (let i = 0; i < MAX_FLUSHES_PER_TASK && this.#forwarder.pending > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
        await this.#forwarder.flush();
      }
    } finally {
      this.#scheduled = false;
    }
  }
}
