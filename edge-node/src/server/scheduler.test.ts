import type { Tensor } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import type { LoadedModel } from '../backends/backend.ts';
import type { ModelManifest } from '../models/manifest.ts';
import { ModelScheduler } from './scheduler.ts';

/** A model that doubles its input and records the batch sizes it was run with. */
function doublingModel(options: { batchable?: boolean; fail?: boolean; delayMs?: number } = {}) {
  const runs: number[] = [];
  const model: LoadedModel = {
    manifest: { name: 'double', version: '1', batchable: options.batchable ?? true } as ModelManifest,
    executionProvider: 'cpu',
    async run(inputs: readonly Tensor[]) {
      runs.push(inputs[0]!.shape[0]!);
      await new Promise((r) => setTimeout(r, options.delayMs ?? 2));
      if (options.fail) throw new Error('model exploded');
      const x = inputs[0]!;
      return [{ name: 'y', datatype: 'FP32' as const, shape: x.shape, data: Float32Array.from(x.data as ArrayLike<number>, (v) => v * 2) }];
    },
    async release() {},
  };
  return { model, runs };
}

const input = (rows: number, start: number, cols = 2): Tensor[] => [
  { name: 'x', datatype: 'FP32', shape: [rows, cols], data: Array.from({ length: rows * cols }, (_, i) => start + i) },
];

describe('ModelScheduler', () => {
  it('joins concurrent compatible requests on dim 0 and gives each its own rows back', async () => {
    const { model, runs } = doublingModel();
    const s = new ModelScheduler(model, { maxBatchSize: 8, maxQueueDelayUs: 5_000, maxQueueSize: 100 });
    const results = await Promise.all([0, 1, 2, 3].map((i) => s.submit(input(2, i * 10))));
    expect(runs).toEqual([8]);
    results.forEach((r, i) => {
      expect(r.outputs[0]!.shape).toEqual([2, 2]);
      expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual([0, 1, 2, 3].map((k) => (i * 10 + k) * 2));
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
    expect(() => s.submit(input(1, 3))).toThrow(expect.objectContaining({ code: 'OVERLOADED', details: { retryAfterMs: expect.any(Number) } }));
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
});
