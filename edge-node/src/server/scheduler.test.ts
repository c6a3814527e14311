import type { Tensor } from '@hexedge/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { LoadedModel } from '../backends/backend.ts';
import type { ModelManifest } from '../models/manifest.ts';
import { ModelScheduler } from './scheduler.ts';

/**
 * A model that doubles its input and records the batch sizes it was run with, how many runs were in
 * flight at most, and whether each run was handed its inputs to keep. With `gate`, each run waits
 * for the test to open it.
 */
function doublingModel(
  options: {
    batchable?: boolean;
    fail?: boolean;
    delayMs?: number;
    maxConcurrentRuns?: number;
    gated?: boolean;
  } = {},
) {
  const runs: number[] = [];
  const transferred: boolean[] = [];
  const gates: (() => void)[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  const model: LoadedModel = {
    manifest: { name: 'double', version: '1', batchable: options.batchable ?? true } as ModelManifest,
    executionProvider: 'cpu',
    maxConcurrentRuns: options.maxConcurrentRuns,
    async run(inputs: readonly Tensor[], _names, runOptions) {
      runs.push(inputs[0]!.shape[0]!);
      transferred.push(runOptions?.transferInputs ?? false);
      peakInFlight = Math.max(peakInFlight, ++inFlight);
      try {
        if (options.gated) await new Promise<void>((r) => gates.push(r));
        else await new Promise((r) => setTimeout(r, options.delayMs ?? 2));
      } finally {
        inFlight--;
      }
      if (options.fail) throw new Error('model exploded');
      const x = inputs[0]!;
      return [
        {
          name: 'y',
          datatype: 'FP32' as const,
          shape: x.shape,
          data: Float32Array.from(x.data as ArrayLike<number>, (v) => v * 2),
        },
      ];
    },
    async release() {},
  };
  return { model, runs, transferred, gates, peak: () => peakInFlight };
}

const input = (rows: number, start: number, cols = 2): Tensor[] => [
  {
    name: 'x',
    datatype: 'FP32',
    shape: [rows, cols],
    data: Array.from({ length: rows * cols }, (_, i) => start + i),
  },
];

describe('ModelScheduler', () => {
  it('joins concurrent compatible requests on dim 0 and gives each its own rows back', async () => {
    const { model, runs } = doublingModel();
    const s = new ModelScheduler(model, { maxBatchSize: 8, maxQueueDelayUs: 5_000, maxQueueSize: 100 });
    const results = await Promise.all([0, 1, 2, 3].map((i) => s.submit(input(2, i * 10))));
    expect(runs).toEqual([8]);
    results.forEach((r, i) => {
      expect(r.outputs[0]!.shape).toEqual([2, 2]);
      expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual(
        [0, 1, 2, 3].map((k) => (i * 10 + k) * 2),
      );
      expect(r.batchSize).toBe(4);
    });
  });

  it('never exceeds maxBatchSize and keeps incompatible shapes apart', async () => {
    const { model, runs } = doublingModel();
    const s = new ModelScheduler(model, { maxBatchSize: 4, maxQueueDelayUs: 5_000, maxQueueSize: 100 });
    await Promise.all([...[0, 1, 2, 3, 4].map((i) => s.submit(input(1, i))), s.submit(input(1, 0, 3))]);
    expect(Math.max(...runs)).toBeLessThanOrEqual(4);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('runs a model that is not batchable one request at a time', async () => {
    const { model, runs } = doublingModel({ batchable: false });
    const s = new ModelScheduler(model, { maxBatchSize: 32, maxQueueDelayUs: 5_000, maxQueueSize: 100 });
    await Promise.all([0, 1, 2].map((i) => s.submit(input(1, i))));
    expect(runs).toEqual([1, 1, 1]);
  });

  it('refuses work beyond the queue bound with OVERLOADED and a retry hint, and serves what it accepted', async () => {
    const { model } = doublingModel({ delayMs: 20 });
    const s = new ModelScheduler(model, { maxBatchSize: 1, maxQueueDelayUs: 0, maxQueueSize: 2 });
    const accepted = [s.submit(input(1, 0)), s.submit(input(1, 1)), s.submit(input(1, 2))];
    expect(() => s.submit(input(1, 3))).toThrow(
      expect.objectContaining({ code: 'OVERLOADED', details: { retryAfterMs: expect.any(Number) } }),
    );
    expect((await Promise.all(accepted)).length).toBe(3);
    expect(s.queueDepth).toBe(0);
  });

  it('fails every request of a failed batch and keeps going', async () => {
    const { model } = doublingModel({ fail: true });
    const s = new ModelScheduler(model, { maxBatchSize: 4, maxQueueDelayUs: 1_000, maxQueueSize: 10 });
    const r = await Promise.allSettled([s.submit(input(1, 0)), s.submit(input(1, 1))]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(s.inFlight).toBe(0);
  });

  it('runs as many batches at once as the model has sessions, never more', async () => {
    const { model, runs, peak } = doublingModel({ maxConcurrentRuns: 2, delayMs: 20 });
    const s = new ModelScheduler(model, { maxBatchSize: 2, maxQueueDelayUs: 0, maxQueueSize: 100 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => s.submit(input(1, i))));
    expect(peak()).toBe(2);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('keeps a stateful (not batchable) model to one run at a time whatever its sessions', async () => {
    const { model, peak } = doublingModel({ batchable: false, maxConcurrentRuns: 4, delayMs: 5 });
    const s = new ModelScheduler(model, { maxBatchSize: 32, maxQueueDelayUs: 0, maxQueueSize: 100 });
    await Promise.all([0, 1, 2, 3].map((i) => s.submit(input(1, i))));
    expect(peak()).toBe(1);
  });

  it('when a run ends, takes everything that queued during it at once, without waiting out the queue delay', async () => {
    const { model, runs, gates } = doublingModel({ gated: true });
    // A minute of queue delay: a batch that waited for it would never run within the test.
    const s = new ModelScheduler(model, { maxBatchSize: 8, maxQueueDelayUs: 60_000_000, maxQueueSize: 100 });
    const first = Promise.all(Array.from({ length: 8 }, (_, i) => s.submit(input(1, i)))); // a full batch runs at once
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    const during = Promise.all(Array.from({ length: 5 }, (_, i) => s.submit(input(1, 100 + i))));
    expect(s.queueDepth).toBe(5);
    gates[0]!();
    await first;
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    expect(runs).toEqual([8, 5]);
    gates[1]!();
    const results = await during;
    results.forEach((r, i) =>
      expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual([(100 + i) * 2, (100 + i) * 2 + 2]),
    );
  });

  it('hands a joined batch to the model to keep, and a lone request’s own tensors only to read', async () => {
    const { model, transferred } = doublingModel();
    const s = new ModelScheduler(model, { maxBatchSize: 4, maxQueueDelayUs: 5_000, maxQueueSize: 10 });
    await Promise.all([s.submit(input(2, 0)), s.submit(input(2, 10))]);
    await s.submit(input(4, 0));
    expect(transferred).toEqual([true, false]);
  });

  it('under many concurrent clients, gives every request exactly its own rows, in batches within bounds', async () => {
    const { model, runs, peak } = doublingModel({ maxConcurrentRuns: 3, delayMs: 1 });
    const s = new ModelScheduler(model, { maxBatchSize: 16, maxQueueDelayUs: 300, maxQueueSize: 512 });
    let next = 0;
    const client = async () => {
      for (let k = 0; k < 20; k++) {
        const id = next++;
        const rows = 1 + (id % 4);
        const r = await s.submit(input(rows, id * 1000, 3));
        expect(r.outputs[0]!.shape).toEqual([rows, 3]);
        expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual(
          Array.from({ length: rows * 3 }, (_, i) => (id * 1000 + i) * 2),
        );
      }
    };
    await Promise.all(Array.from({ length: 64 }, client));
    expect(runs.reduce((a, b) => a + b, 0)).toBe(
      Array.from({ length: 64 * 20 }, (_, id) => 1 + (id % 4)).reduce((a, b) => a + b, 0),
    );
    expect(Math.max(...runs)).toBeLessThanOrEqual(16);
    expect(peak()).toBeLessThanOrEqual(3);
    // Batches did form: far fewer runs than requests.
    expect(runs.length).toBeLessThan((64 * 20) / 3);
    expect(s.inFlight).toBe(0);
    expect(s.queueDepth).toBe(0);
  });

  it('times a sub-millisecond queue delay with its queue waiter while busy: runs when it fires, cancels it when the batch fills', async () => {
    const { model, runs, gates } = doublingModel({ maxConcurrentRuns: 2, gated: true });
    const waits: { delayUs: number; fire: () => void; cancelled: boolean }[] = [];
    const queueWaiter = (delayUs: number, fire: () => void) => {
      const w = { delayUs, fire, cancelled: false };
      waits.push(w);
      return () => void (w.cancelled = true);
    };
    const s = new ModelScheduler(model, {
      maxBatchSize: 3,
      maxQueueDelayUs: 800,
      maxQueueSize: 10,
      queueWaiter,
    });
    // Idle: the first request runs at the end of its turn, without a wait.
    const busy = s.submit(input(1, 0));
    await new Promise((r) => setImmediate(r));
    expect(runs).toEqual([1]);
    expect(waits).toHaveLength(0);
    // One session busy: a lone request waits for company, timed by the waiter.
    const lone = s.submit(input(1, 1));
    expect(waits).toHaveLength(1);
    expect(waits[0]!.delayUs).toBeGreaterThan(0);
    expect(waits[0]!.delayUs).toBeLessThanOrEqual(800);
    const second = s.submit(input(1, 2)); // the wait is armed already: no second one
    expect(waits).toHaveLength(1);
    expect(runs).toEqual([1]);
    // Fired only once the delay has passed on the scheduler's own clock.
    await new Promise((r) => setTimeout(r, 2));
    waits[0]!.fire();
    expect(runs).toEqual([1, 2]);
    gates.splice(0).forEach((open) => open());
    await Promise.all([busy, lone, second]);
    // Busy again; a batch that fills while waiting runs at once and cancels its wait.
    const busyAgain = s.submit(input(1, 3));
    await new Promise((r) => setImmediate(r));
    const full = [0, 1, 2].map((i) => s.submit(input(1, 10 + i)));
    expect(waits).toHaveLength(2);
    expect(waits[1]!.cancelled).toBe(true);
    expect(runs).toEqual([1, 2, 1, 3]);
    gates.splice(0).forEach((open) => open());
    await Promise.all([busyAgain, ...full]);
  });

  it('an idle model runs at the end of the turn what arrived in it, without waiting out the queue delay', async () => {
    const { model, runs } = doublingModel();
    // A delay of a minute: a test that waited it out would time out.
    const s = new ModelScheduler(model, { maxBatchSize: 8, maxQueueDelayUs: 60_000_000, maxQueueSize: 10 });
    const lone = await s.submit(input(1, 0));
    expect(lone.batchSize).toBe(1);
    expect(lone.queueMs).toBeLessThan(1_000);
    // Requests of one turn (one read of the socket, say) still join.
    const together = await Promise.all([1, 2, 3].map((i) => s.submit(input(1, i))));
    expect(together.map((r) => r.batchSize)).toEqual([3, 3, 3]);
    expect(runs).toEqual([1, 3]);
  });
});
