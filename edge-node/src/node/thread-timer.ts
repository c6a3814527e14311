import { Worker } from 'node:worker_threads';
import type { QueueWaiter } from '../server/queue-wait.ts';

/**
 * Sub-millisecond timers for the event loop without spinning it: a small thread sleeps in
 * `Atomics.wait` (which takes fractions of a millisecond) until the earliest pending deadline and then
 * posts a message, which wakes the loop out of epoll like any I/O. One message each way per armed
 * deadline (a few µs of CPU) instead of a loop that turns without blocking until the deadline passes.
 * `gen` in shared memory names the deadline the thread should sleep towards: re-arming or cancelling
 * changes it and wakes the thread, so a stale sleep never delays a newer, earlier deadline.
 *
 * A sleeping thread and loop wake late when the machine is busy (measured on this shared 2-core box:
 * hundreds of µs), which a spinning loop never does. So the thread wakes the loop `lead` early — the
 * lateness it has been seeing (an EWMA, at most MAX_LEAD_MS) — and the loop turns (setImmediate) for
 * that last stretch: on a quiet machine a few µs of spinning per wait, on a busy one up to the old
 * behaviour, never later than it.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const gen = new Int32Array(workerData);
parentPort.on('message', ({ id, ms }) => {
  if (Atomics.load(gen, 0) !== id) return;
  Atomics.wait(gen, 0, id, ms);
  if (Atomics.load(gen, 0) === id) parentPort.postMessage(id);
});
`;

interface Pending {
  atMs: number;
  fire: () => void;
}

/** Weight of the newest lateness sample; the most the loop spins before a deadline. */
const LEAD_EWMA_ALPHA = 0.2;
const MAX_LEAD_MS = 1;
/** Shorter than this, a sleep on the thread costs more than turning the loop. */
const MIN_SLEEP_MS = 0.02;

export class ThreadTimer {
  readonly #gen = new Int32Array(new SharedArrayBuffer(4));
  readonly #pending = new Set<Pending>();
  #worker: Worker | undefined;
  /** When the armed thread should wake the loop (Infinity: not armed). */
  #wakeAtMs = Infinity;
  #leadMs = 0.05;
  #lastId = 0;
  #spinning: ReturnType<typeof setImmediate> | undefined;
  #started = false;

  /** Calls `fire` once, no sooner than `delayUs` from now; the returned function cancels it. */
  readonly wait: QueueWaiter = (delayUs, fire) => {
    const p: Pending = { atMs: performance.now() + delayUs / 1000, fire };
    this.#pending.add(p);
    this.#schedule();
    return () => {
      if (this.#pending.delete(p) && this.#pending.size === 0) this.#disarm();
    };
  };

  /** Stops the thread (pending waits are dropped). */
  close(): Promise<number> | undefined {
    this.#pending.clear();
    this.#disarm();
    const w = this.#worker;
    this.#worker = undefined;
    return w?.terminate();
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(THREAD_SOURCE, { eval: true, workerData: this.#gen.buffer });
    w.on('message', (id: number) => this.#onWake(id));
    w.on('error', () => (this.#worker = undefined));
    // Never keeps the process alive: whoever waits has a request (a socket) that does.
    w.unref();
    this.#worker = w;
    return w;
  }

  #earliest(): number {
    let earliest = Infinity;
    for (const p of this.#pending) earliest = Math.min(earliest, p.atMs);
    return earliest;
  }

  /** Spins when the earliest deadline is within the lead, else arms the thread for it (if not armed sooner). */
  #schedule(): void {
    if (this.#spinning || this.#pending.size === 0) return;
    const now = performance.now();
    const earliest = this.#earliest();
    // At most half of what is left is spun: the thread always takes part, so the lead keeps being measured.
    const wakeAt = earliest - Math.min(this.#leadMs, (earliest - now) / 2);
    if (earliest <= now || wakeAt - now < MIN_SLEEP_MS) {
      this.#disarm();
      this.#spinning = setImmediate(() => this.#spin());
      return;
    }
    if (wakeAt >= this.#wakeAtMs) return;
    this.#wakeAtMs = wakeAt;
    const id = (this.#lastId = (this.#lastId % 0x7fffffff) + 1);
    Atomics.store(this.#gen, 0, id);
    Atomics.notify(this.#gen, 0);
    this.#thread().postMessage({ id, ms: wakeAt - now });
  }

  #disarm(): void {
    this.#wakeAtMs = Infinity;
    Atomics.store(this.#gen, 0, 0);
    Atomics.notify(this.#gen, 0);
    if (this.#pending.size === 0 && this.#spinning) {
      clearImmediate(this.#spinning);
      this.#spinning = undefined;
    }
  }

  #onWake(id: number): void {
    if (Atomics.load(this.#gen, 0) !== id) return;
    const latenessMs = Math.max(0, performance.now() - this.#wakeAtMs);
    // The first wake includes the thread's start (tens of ms): not a sample of its lateness.
    if (this.#started)
      this.#leadMs = Math.min(MAX_LEAD_MS, this.#leadMs + LEAD_EWMA_ALPHA * (latenessMs - this.#leadMs));
    this.#started = true;
    this.#wakeAtMs = Infinity;
    this.#spin();
  }

  /** Fires what is due (earliest first), then spins on or re-arms for what is left. */
  #spin(): void {
    this.#spinning = undefined;
    const now = performance.now();
    const due = [...this.#pending].filter((p) => p.atMs <= now).sort((a, b) => a.atMs - b.atMs);
    for (const p of due) this.#pending.delete(p);
    // What is left within the lead is spun out here (re-arming would chase it with ever shorter sleeps).
    if (this.#pending.size > 0 && this.#earliest() - now <= this.#leadMs + MIN_SLEEP_MS)
      this.#spinning = setImmediate(() => this.#spin());
    else this.#schedule();
    for (const p of due) p.fire();
  }
}
