import type { Tensor } from '@hexedge/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { LoadedModel } from '../backends/backend.ts';
import type { ModelManifest } from '../models/manifest.ts';
import { ModelScheduler } from '../server/scheduler.ts';
import { PriorityLanes, queueLimitsFor } from './priority-lanes.ts';

/** A model whose runs wait until the test opens them, recording the first input value of each run. */
function gatedModel() {
  const gates: (() => void)[] = [];
  const order: number[][] = [];
  const model: LoadedModel = {
    manifest: { name: 'gated', version: '1', batchable: true } as ModelManifest,
    executionProvider: 'cpu',
    async run(inputs: readonly Tensor[]) {
      const x = inputs[0]!;
      const cols = x.shape[1]!;
      order.push(
        Array.from({ length: x.shape[0]! }, (_, r) => Number((x.data as ArrayLike<number>)[r * cols])),
      );
      await new Promise<void>((r) => gates.push(r));
      return [
        {
          name: 'y',
          datatype: 'FP32' as const,
          shape: x.shape,
          data: Float32Array.from(x.data as ArrayLike<number>),
        },
      ];
    },
    async release() {},
  };
  const openNext = async () => {
    await vi.waitFor(() => expect(gates.length).toBeGreaterThan(0));
    gates.shift()!();
  };
  return { model, order, openNext, gates };
}

const row = (value: number): Tensor[] => [
  { name: 'x', datatype: 'FP32', shape: [1, 2], data: [value, value] },
];

describe('PriorityLanes', () => {
  it('derives per-level admission limits: normal keeps maxQueueSize, low half, high a reserve above', () => {
    expect(queueLimitsFor(512)).toEqual({ high: 640, normal: 512, low: 256 });
    expect(queueLimitsFor(1)).toEqual({ high: 2, normal: 1, low: 1 });
  });

  it('serves the highest level first and takes compatible requests highest level first, oldest first', () => {
    const lanes = new PriorityLanes<{
      priority: 'high' | 'normal' | 'low';
      key: string;
      rows: number;
      id: string;
    }>(queueLimitsFor(10));
    lanes.push({ priority: 'low', key: 'a', rows: 1, id: 'low1' });
    lanes.push({ priority: 'normal', key: 'a', rows: 1, id: 'n1' });
    lanes.push({ priority: 'high', key: 'b', rows: 1, id: 'h1' });
    lanes.push({ priority: 'high', key: 'a', rows: 1, id: 'h2' });
    expect(lanes.first()?.id).toBe('h1');
    expect(lanes.take('a', 2).map((i) => i.id)).toEqual(['h2', 'n1']);
    expect(lanes.size).toBe(2);
    expect(lanes.aheadOf('normal')).toBe(1);
    expect(lanes.aheadOf('low')).toBe(2);
  });
});

describe('ModelScheduler priorities and deadlines', () => {
  it('refuses low priority first as the queue fills, while high priority still gets in', async () => {
    const { model, openNext } = gatedModel();
    // maxQueueSize 4: low admitted below 2 queued, normal below 4, high below 5.
    const s = new ModelScheduler(model, { maxBatchSize: 1, maxQueueDelayUs: 0, maxQueueSize: 4 });
    const accepted: Promise<unknown>[] = [s.submit(row(0))]; // runs at once, holds the only run slot
    accepted.push(
      s.submit(row(1), undefined, { priority: 'low' }),
      s.submit(row(2), undefined, { priority: 'normal' }),
    );
    expect(() => s.submit(row(3), undefined, { priority: 'low' })).toThrow(
      expect.objectContaining({
        code: 'OVERLOADED',
        message: expect.stringContaining('low-priority requests are admitted below 2'),
      }),
    );
    accepted.push(
      s.submit(row(4), undefined, { priority: 'normal' }),
      s.submit(row(5), undefined, { priority: 'normal' }),
    );
    expect(() => s.submit(row(6), undefined, { priority: 'normal' })).toThrow(
      expect.objectContaining({ code: 'OVERLOADED' }),
    );
    accepted.push(s.submit(row(7), undefined, { priority: 'high' }));
    expect(() => s.submit(row(8), undefined, { priority: 'high' })).toThrow(
      expect.objectContaining({ code: 'OVERLOADED', details: { retryAfterMs: expect.any(Number) } }),
    );
    expect(s.queuedAt('high')).toBe(1);
    for (let i = 0; i < accepted.length; i++) await openNext();
    expect((await Promise.all(accepted)).length).toBe(6);
  });

  it('runs queued high priority before older normal and low requests', async () => {
    const { model, order, openNext } = gatedModel();
    const s = new ModelScheduler(model, { maxBatchSize: 1, maxQueueDelayUs: 0, maxQueueSize: 10 });
    const all = [
      s.submit(row(0)),
      s.submit(row(1), undefined, { priority: 'low' }),
      s.submit(row(2)),
      s.submit(row(3), undefined, { priority: 'high' }),
    ];
    for (let i = 0; i < all.length; i++) await openNext();
    await Promise.all(all);
    expect(order.map((r) => r[0])).toEqual([0, 3, 2, 1]);
  });

  it('drops a request whose deadline passes in the queue (504, never run) and serves the rest', async () => {
    const { model, order, openNext } = gatedModel();
    const s = new ModelScheduler(model, { maxBatchSize: 1, maxQueueDelayUs: 0, maxQueueSize: 10 });
    const first = s.submit(row(0));
    const late = s.submit(row(1), undefined, { deadlineMs: 5 });
    const patient = s.submit(row(2), undefined, { deadlineMs: 60_000 });
    await expect(late).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      message: expect.stringContaining('5 ms deadline'),
    });
    expect(s.queueDepth).toBe(1);
    await openNext();
    await openNext();
    await Promise.all([first, patient]);
    expect(order.map((r) => r[0])).toEqual([0, 2]);
  });

  it('refuses at once a request whose expected wait already exceeds its deadline', async () => {
    const { model, openNext } = gatedModel();
    const s = new ModelScheduler(model, { maxBatchSize: 1, maxQueueDelayUs: 0, maxQueueSize: 10 });
    const first = s.submit(row(0));
    await new Promise((r) => setTimeout(r, 30));
    await openNext();
    await first; // one run measured: ~30 ms
    const busy = s.submit(row(1));
    const queued = [s.submit(row(2)), s.submit(row(3))];
    expect(() => s.submit(row(4), undefined, { deadlineMs: 1 })).toThrow(
      expect.objectContaining({
        code: 'OVERLOADED',
        message: expect.stringContaining("beyond the request's 1 ms deadline"),
      }),
    );
    for (let i = 0; i < 3; i++) await openNext();
    await Promise.all([busy, ...queued]);
  });
});
