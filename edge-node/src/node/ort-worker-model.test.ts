import type { Tensor } from '@hexedge/protocol';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LoadedModel } from '../backends/backend.ts';
import { buildComfortIndexModel, comfortIndexManifest } from '../models/comfort-index.ts';
import type { ModelManifest } from '../models/manifest.ts';
import { OrtNodeBackend } from './ort-node.ts';
import { OrtWorkerModel } from './ort-worker-model.ts';

/*
 * The onnxruntime-node backend with its sessions on worker threads, on a real ONNX model: the same
 * answers as a session on the event loop, ORT's refusals passed on, buffers moved only when given
 * away, and every thread gone after release.
 */

const osThreads = () => Number(readFileSync('/proc/self/status', 'utf8').match(/^Threads:\s+(\d+)$/m)![1]);
/**
 * The process's OS threads are back to `count`. A worker's 'exit' event can come a moment before the
 * kernel has reaped its thread (a fresh-clone CI run once saw one thread more right after release), so
 * this waits for it (bounded); a thread that stays alive fails the test.
 */
const threadsBackTo = (count: number) =>
  vi.waitFor(() => expect(osThreads()).toBe(count), { timeout: 5_000, interval: 20 });

let manifest: ModelManifest;
let bytes: Uint8Array;
let inProcess: LoadedModel;
let pooled: OrtWorkerModel;

const readings = (rows: number[][]): Tensor => ({
  name: 'readings',
  datatype: 'FP32',
  shape: [rows.length, 3],
  data: Float32Array.from(rows.flat()),
});
const ROWS = [
  [22, 45, 600],
  [31, 70, 900],
  [24, 55, 2100],
];

beforeAll(async () => {
  bytes = buildComfortIndexModel();
  manifest = await comfortIndexManifest(bytes);
  inProcess = await (await OrtNodeBackend.create({ workers: 0 })).load({ manifest, bytes });
  pooled = (await (await OrtNodeBackend.create({ workers: 2 })).load({ manifest, bytes })) as OrtWorkerModel;
});
afterAll(async () => {
  await inProcess.release();
  await pooled.release();
});

describe('OrtWorkerModel (onnxruntime-node on worker threads)', () => {
  it('is what the backend loads by default, with up to its worker count of runs at once', async () => {
    expect(pooled).toBeInstanceOf(OrtWorkerModel);
    expect(pooled.maxConcurrentRuns).toBe(2);
    expect(pooled.threads.alive).toBe(2);
    expect(pooled.executionProvider).toBe('cpu');
  });

  it('answers exactly as a session on the event loop does', async () => {
    const [expected] = await inProcess.run([readings(ROWS)]);
    const [got] = await pooled.run([readings(ROWS)]);
    expect(got!.shape).toEqual([3, 3]);
    expect(got!.datatype).toBe('FP32');
    expect(Array.from(got!.data as Float32Array)).toEqual(Array.from(expected!.data as Float32Array));
  });

  it('reads a caller’s tensor without detaching it, and moves it when given away', async () => {
    const kept = readings(ROWS);
    await pooled.run([kept]);
    expect((kept.data as Float32Array).length).toBe(9);
    const given = readings(ROWS);
    await pooled.run([given], undefined, { transferInputs: true });
    expect((given.data as Float32Array).byteLength).toBe(0);
    // A view into a larger buffer is copied to its own bytes, never moved with its neighbours.
    const big = new Float32Array(90);
    big.set(ROWS.flat(), 9);
    const view = { ...readings(ROWS), data: big.subarray(9, 18) };
    const [out] = await pooled.run([view], undefined, { transferInputs: true });
    expect(big.byteLength).toBe(360);
    expect(out!.shape).toEqual([3, 3]);
  });

  it('passes on ORT’s refusal of a run, and the worker serves the next one', async () => {
    const bad: Tensor = { name: 'readings', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) };
    await expect(pooled.run([bad])).rejects.toThrow(
      /^comfort-index@1: Got invalid dimensions for input: readings/i,
    );
    const [ok] = await pooled.run([readings(ROWS.slice(0, 1))]);
    expect(ok!.shape).toEqual([1, 3]);
    expect(pooled.threads.respawns).toBe(0);
  });

  it('fails to load a model ORT cannot parse, naming it, and leaves no thread behind', async () => {
    const before = osThreads();
    const backend = await OrtNodeBackend.create({ workers: 2 });
    const broken = { manifest: { ...manifest, name: 'broken' }, bytes: new Uint8Array([1, 2, 3, 4]) };
    await expect(backend.load(broken)).rejects.toThrow(/^broken@1: Failed to load model/);
    await threadsBackTo(before);
  });

  it('ends its threads on release and refuses runs after it', async () => {
    const before = osThreads();
    const model = (await (
      await OrtNodeBackend.create({ workers: 3 })
    ).load({ manifest, bytes })) as OrtWorkerModel;
    expect(osThreads()).toBeGreaterThanOrEqual(before + 3);
    await model.run([readings(ROWS)]);
    await model.release();
    expect(model.threads.alive).toBe(0);
    await threadsBackTo(before);
    await expect(model.run([readings(ROWS)])).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
  });

  it('survives loads that fail and releases with runs in flight, round after round (its own process)', async () => {
    // Terminating a thread while ORT was opening a session aborted the whole process ("terminate
    // called after throwing an instance of 'Napi::Error'") or left the load unsettled: 25 rounds
    // failed every time before threads were asked to stop instead of terminated.
    const churn = new URL('../../test/fixtures/ort-load-churn.ts', import.meta.url);
    const result = await new Promise<{ code: number | null; signal: string | null; stdout: string }>(
      (resolve) =>
        execFile(
          process.execPath,
          [churn.pathname, '25'],
          { timeout: 90_000, killSignal: 'SIGKILL' },
          (err, stdout) =>
            resolve({
              code: err ? ((err as { code?: number }).code ?? null) : 0,
              signal: err ? ((err as { signal?: string }).signal ?? null) : null,
              stdout,
            }),
        ),
    );
    expect(result).toEqual({ code: 0, signal: null, stdout: 'rounds 25\n' });
  }, 120_000);
});
