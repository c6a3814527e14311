import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReceiptForwarder } from '../oracle-forwarder.ts';
import { WORKER_REPORT_DELAY_MS, WorkerReportFlusher } from './worker-reports.ts';

/** A forwarder that posts `perFlush` reports a flush (a batch), and the tasks handed to waitUntil. */
function setup(o: { pending: number; perFlush: number }) {
  const forwarder = {
    pending: o.pending,
    flushes: 0,
    flush: vi.fn(async function (this: void) {
      forwarder.flushes++;
      forwarder.pending = Math.max(0, forwarder.pending - o.perFlush);
    }),
  };
  const tasks: Promise<unknown>[] = [];
  const ctx = { waitUntil: (task: Promise<unknown>) => void tasks.push(task) };
  const flusher = new WorkerReportFlusher(forwarder as unknown as ReceiptForwarder);
  return { forwarder, tasks, ctx, flusher };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('WorkerReportFlusher (receipt reports from a Worker isolate)', () => {
  it('schedules nothing when no report waits', () => {
    const { ctx, tasks, flusher } = setup({ pending: 0, perFlush: 100 });
    flusher.afterRequest(ctx);
    expect(tasks).toHaveLength(0);
  });

  it('one task for the requests of a moment, flushing after the delay, inside waitUntil', async () => {
    vi.useFakeTimers();
    const { ctx, tasks, flusher, forwarder } = setup({ pending: 3, perFlush: 100 });
    flusher.afterRequest(ctx);
    flusher.afterRequest(ctx);
    expect(tasks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(WORKER_REPORT_DELAY_MS - 1);
    expect(forwarder.flushes).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await tasks[0];
    expect(forwarder.flushes).toBe(1);
    // Done: the next request that leaves reports schedules a new task.
    forwarder.pending = 1;
    flusher.afterRequest(ctx);
    expect(tasks).toHaveLength(2);
  });

  it('goes on flushing while reports remain (more than a batch), within its bound', async () => {
    vi.useFakeTimers();
    const { ctx, tasks, flusher, forwarder } = setup({ pending: 250, perFlush: 100 });
    flusher.afterRequest(ctx);
    await vi.advanceTimersByTimeAsync(3 * WORKER_REPORT_DELAY_MS);
    await tasks[0];
    expect(forwarder.flushes).toBe(3);
    expect(forwarder.pending).toBe(0);

    const stuck = setup({ pending: 5, perFlush: 0 });
    stuck.flusher.afterRequest(stuck.ctx);
    await vi.advanceTimersByTimeAsync(100 * WORKER_REPORT_DELAY_MS);
    await stuck.tasks[0];
    expect(stuck.forwarder.flushes).toBe(40);
  });
});
