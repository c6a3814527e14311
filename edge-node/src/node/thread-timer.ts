import { Worker } from 'node:worker_threads';
import type { QueueWaiter } from '../server/queue-wait.ts';

/**
 * Sub-millisecond timers for the event loop without spinning it: a small thread sleeps in
 * `Atomics.wait` (which takes fractions of a millisecond) until the earliest pending deadline and then
 * posts a message, which wakes the loop out of epoll like any I/O. One message each way per armed
 * deadline (a few µs of CPU) instead of a loop that turns without blocking until the deadline passes.
 * `gen` in shared memory names the deadline the thread should sleep towards: re-arming or cancelling
 * changes it and wakes the thread, so a stale sleep never delays a newer, earlier deadline.
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

export class ThreadTimer {
  readonly #gen = new Int32Array(new SharedArrayBuffer(4));
  readonly #pending = new Set<Pending>();
  #worker: Worker | undefined;
  #armedAtMs = Infinity;
  #lastId = 0;

  /** Calls `fire` once, no sooner than `delayUs` from now; the returned function cancels it. */
  readonly wait: QueueWaiter = (delayUs, fire) => {
    const p: Pending = { atMs: performance.now() + delayUs / 1000, fire };
    this.#pending.add(p);
    if (p.atMs < this.#armedAtMs) this.#arm();
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
    w.on('message', (id: number) => this.#onFired(id));
    w.on('error', () => (this.#worker = undefined));
    // Never keeps the process alive: whoever waits has a request (a socket) that does.
    w.unref();
    this.#worker = w;
    return w;
  }

  #arm(): void {
    let earliest = Infinity;
    for (const p of this.#pending) earliest = Math.min(earliest, p.atMs);
    this.#armedAtMs = earliest;
    const id = (this.#lastId = (this.#lastId % 0x7fffffff) + 1);
    Atomics.store(this.#gen, 0, id);
    Atomics.notify(this.#gen, 0);
    this.#thread().postMessage({ id, ms: Math.max(0, earliest - performance.now()) });
  }

  #disarm(): void {
    this.#armedAtMs = Infinity;
    Atomics.store(this.#gen, 0, 0);
    Atomics.notify(this.#gen, 0);
  }

  #onFired(id: number): void {
    if (Atomics.load(this.#gen, 0) !== id) return;
    this.#armedAtMs = Infinity;
    const now = performance.now();
    const due = [...this.#pending].filter((p) => p.atMs <= now).sort((a, b) => a.atMs - b.atMs);
    for (const p of due) this.#pending.delete(p);
    if (this.#pending.size > 0) this.#arm();
    else this.#disarm();
    for (const p of due) p.fire();
  }
}
