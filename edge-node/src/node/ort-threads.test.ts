import type { Tensor } from '@hexedge/protocol';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildComfortIndexModel, comfortIndexManifest } from '../models/comfort-index.ts';
import { buildComfortIndexVariant } from '../models/comfort-index-variants.ts';
import { OrtNodeBackend } from './ort-node.ts';
import type { OrtWorkerModel } from './ort-worker-model.ts';

/*
 * One backend's models share its inference threads (ort-threads.ts): each thread holds a session of
 * each model, each job runs the model it names, and the threads last as long as some model is loaded.
 */
const osThreads = () => Number(readFileSync('/proc/self/status', 'utf8').match(/^Threads:\s+(\d+)$/m)![1]);
const threadsBackTo = (count: number) =>
  vi.waitFor(() => expect(osThreads()).toBe(count), { timeout: 5_000, interval: 20 });
const readings: Tensor = {
  name: 'readings',
  datatype: 'FP32',
  shape: [2, 3],
  data: Float32Array.from([22, 45, 600, 31, 70, 900]),
};
const answer = async (m: OrtWorkerModel) => Array.from((await m.run([readings]))[0]!.data as Float32Array);

beforeAll(async () => {
  // One load and release first, so threads Node and ORT create once per process exist already.
  const bytes = buildComfortIndexModel();
  const once = await (
    await OrtNodeBackend.create({ workers: 1 })
  ).load({ manifest: await comfortIndexManifest(bytes), bytes });
  await once.release();
});

describe('inference threads shared by the models of one backend', () => {
  it('two models on two threads: each job runs its own model; one released, the other goes on; the last ends them', async () => {
    const before = osThreads();
    const backend = await OrtNodeBackend.create({ workers: 2 });
    const plainBytes = buildComfortIndexModel();
    const plain = (await backend.load({
      manifest: await comfortIndexManifest(plainBytes),
      bytes: plainBytes,
    })) as OrtWorkerModel;
    const swapped = (await backend.load(
      await buildComfortIndexVariant({ variant: 'mislabelled', version: '2' }),
    )) as OrtWorkerModel;
    // Two threads in all, not two per model.
    expect(plain.threads.alive).toBe(2);
    expect(osThreads()).toBe(before + 2);
    expect(swapped.maxConcurrentRuns).toBe(2);

    const p = await answer(plain);
    const s = await answer(swapped);
    // The mislabelled release swaps the last two classes: the same numbers, columns 1 and 2 exchanged.
    expect(s).toEqual([p[0], p[2], p[1], p[3], p[5], p[4]]);
    // Many at once, interleaved on both threads: every job still runs the model it names.
    const mixed = await Promise.all(Array.from({ length: 20 }, (_, i) => answer(i % 2 ? swapped : plain)));
    mixed.forEach((got, i) => expect(got).toEqual(i % 2 ? s : p));

    await plain.release();
    await expect(plain.run([readings])).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
    expect(await answer(swapped)).toEqual(s);
    expect(swapped.threads.alive).toBe(2);
    await swapped.release();
    expect(swapped.threads.alive).toBe(0);
    await threadsBackTo(before);
  });

  it('a model ORT cannot open fails its own load, naming it, and the models already loaded go on', async () => {
    const backend = await OrtNodeBackend.create({ workers: 2 });
    const bytes = buildComfortIndexModel();
    const manifest = await comfortIndexManifest(bytes);
    const good = (await backend.load({ manifest, bytes })) as OrtWorkerModel;
    const before = await answer(good);
    await expect(
      backend.load({ manifest: { ...manifest, name: 'broken' }, bytes: new Uint8Array([1, 2, 3, 4]) }),
    ).rejects.toThrow(/^broken@1: Failed to load model/);
    expect(await answer(good)).toEqual(before);
    expect(good.threads).toEqual({ alive: 2, respawns: 0 });
    await good.release();
  });
});
