import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PoolTestData, PoolTestJob, PoolTestResult } from '../../test/fixtures/pool-worker.ts';
import { Worker } from 'node:worker_threads';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool.ts';

const FIXTURE = new URL('../../test/fixtures/pool-worker.ts', import.meta.url);

/** OS threads of this process now (Linux): worker threads are OS threads, so a leak shows here. */
function osThreads(): number {
  const line = readFileSync('/proc/self/status', 'utf8').match(/^Threads:\s+(\d+)$/m);
  if (!line) throw new Error('no Threads: line in /proc/self/status');
  return Number(line[1]);
}

const pools: WorkerPool[] = [];
async function startPool(options: Partial<WorkerPoolOptions> & { failAfterStarts?: number } = {}) {
  const workerData: PoolTestData = {
    starts: new Int32Array(new SharedArrayBuffer(4)),
    failAfterStarts: options.failAfterStarts,
  };
  const pool = await WorkerPool.start<{ threadId: number }>({
    label: 'fixture@1',
    script: FIXTURE,
    size: 1,
    workerData,
    ...options,
  });
  pools.push(pool);
  return pool;
}
const run = (pool: WorkerPool, job: PoolTestJob, transfer: Transferable[] = []) =>
  pool.run<PoolTestResult>(job, transfer as never);

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

let baselineThreads: number;
beforeAll(async () => {
  // One start and close first, so threads Node creates once per process (platform, libuv) exist already.
  await (await startPool({ size: 2 })).close();
  baselineThreads = osThreads();
});

describe('WorkerPool', () => {
  it('runs jobs on its threads, as many at once as it has threads', async () => {
    const pool = await startPool({ size: 2 });
    expect(pool.info.threadId).toBeGreaterThan(0);
    const [a, b] = await Promise.all([
      run(pool, { op: 'sleep', ms: 300 }),
      run(pool, { op: 'sleep', ms: 300 }),
    ]);
    expect(a!.threadId).not.toBe(b!.threadId);
    // Both ran at once: each started before the other ended.
    expect(a!.startedAt).toBeLessThan(b!.endedAt);
    expect(b!.startedAt).toBeLessThan(a!.endedAt);
    const echoes = await Promise.all([1, 2, 3, 4, 5].map((value) => run(pool, { op: 'echo', value })));
    expect(echoes.map((r) => r.value)).toEqual([1, 2, 3, 4, 5]);
  });

  it('moves a transferred buffer to the worker (detached here) and its contents arrive whole', async () => {
    const pool = await startPool();
    const data = Float64Array.from({ length: 1000 }, (_, i) => i);
    const r = await run(pool, { op: 'sum', data }, [data.buffer]);
    expect(r.value).toBe((999 * 1000) / 2);
    expect(data.byteLength).toBe(0);
  });

  it('fails a job its worker refuses with the worker’s message, and the worker goes on', async () => {
    const pool = await startPool();
    await expect(run(pool, { op: 'refuse', value: 42 })).rejects.toThrow('fixture@1: refused 42');
    const r = await run(pool, { op: 'echo', value: 1 });
    expect(r.threadId).toBe(pool.info.threadId);
    expect(pool.respawns).toBe(0);
  });

  it.each([
    ['exits', { op: 'exit', code: 7 } as const, 'exited with code 7'],
    ['throws an uncaught error', { op: 'crash' } as const, 'the fixture worker blew up'],
  ])('fails only the job of a worker that %s, names it, and replaces the worker', async (_what, job, why) => {
    const lines: string[] = [];
    const pool = await startPool({ log: (l) => lines.push(l) });
    const dying = run(pool, job);
    const queued = run(pool, { op: 'echo', value: 9 });
    await expect(dying).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(
        new RegExp(`^fixture@1: the inference worker .*${why}.* during this run; it is being replaced$`),
      ),
    });
    // The job queued behind it runs on the replacement.
    const r = await queued;
    expect(r.value).toBe(9);
    expect(r.threadId).not.toBe(pool.info.threadId);
    expect(pool.respawns).toBe(1);
    expect(pool.threads).toBe(1);
    expect(lines).toEqual([expect.stringContaining('starting a replacement')]);
  });

  it('refuses to start when a worker cannot, with its reason, leaving no thread behind', async () => {
    await expect(startPool({ size: 2, failAfterStarts: 1 })).rejects.toThrow(
      'fixture@1: start 2 refused by the fixture',
    );
    await vi.waitFor(() => expect(osThreads()).toBe(baselineThreads));
  });

  it('stops replacing workers that keep dying before they are ready, and then refuses jobs with the reason', async () => {
    const lines: string[] = [];
    const pool = await startPool({ failAfterStarts: 1, maxFailedStarts: 3, log: (l) => lines.push(l) });
    await expect(run(pool, { op: 'exit', code: 1 })).rejects.toMatchObject({ code: 'INTERNAL' });
    const waiting = run(pool, { op: 'echo', value: 1 });
    await expect(waiting).rejects.toMatchObject({
      code: 'MODEL_NOT_READY',
      message: expect.stringContaining(
        'fixture@1 cannot run: its inference workers died before they were ready 3 times in a row (last: exited with code 3 (start 4 refused by the fixture))',
      ),
    });
    await expect(run(pool, { op: 'echo', value: 2 })).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
    expect(lines.at(-1)).toContain('not restarting');
    expect(pool.threads).toBe(0);
  });

  it('on close, refuses running and queued jobs, ends every thread, and refuses later jobs', async () => {
    const pool = await startPool({ size: 3 });
    expect(osThreads()).toBe(baselineThreads + 3);
    const running = [
      run(pool, { op: 'sleep', ms: 60_000 }),
      run(pool, { op: 'sleep', ms: 60_000 }),
      run(pool, { op: 'sleep', ms: 60_000 }),
    ];
    const queued = run(pool, { op: 'echo', value: 1 });
    const refused = [...running, queued].map((job) =>
      expect(job).rejects.toMatchObject({ code: 'MODEL_NOT_READY', message: 'fixture@1 is shutting down' }),
    );
    await pool.close();
    await Promise.all(refused);
    expect(pool.threads).toBe(0);
    expect(osThreads()).toBe(baselineThreads);
    await expect(run(pool, { op: 'echo', value: 1 })).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
    await pool.close(); // twice is fine
  });

  it('on close, asks its workers to stop and terminates only one that ignores it, after the grace', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      const polite = await startPool({ size: 2 });
      await run(polite, { op: 'echo', value: 1 });
      await polite.close();
      expect(terminate).not.toHaveBeenCalled();

      const hung = await WorkerPool.start({
        label: 'fixture@1',
        script: FIXTURE,
        size: 2,
        stopGraceMs: 300,
        workerData: {
          starts: new Int32Array(new SharedArrayBuffer(4)),
          ignoreStop: true,
        } satisfies PoolTestData,
      });
      const asked = performance.now();
      await hung.close();
      expect(performance.now() - asked).toBeGreaterThanOrEqual(290);
      expect(terminate).toHaveBeenCalledTimes(2);
      expect(hung.threads).toBe(0);
      expect(osThreads()).toBe(baselineThreads);
    } finally {
      terminate.mockRestore();
    }
  });

  it('lets the process exit when idle and not closed (its threads are not what keeps a node alive)', async () => {
    const script = `
      import { WorkerPool } from ${JSON.stringify(new URL('./worker-pool.ts', import.meta.url).href)};
      const pool = await WorkerPool.start({ label: 'f', script: new URL(${JSON.stringify(FIXTURE.href)}), size: 2, workerData: { starts: new Int32Array(new SharedArrayBuffer(4)) } });
      const r = await pool.run({ op: 'sleep', ms: 200 });
      console.log('ran', r.value);`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-pool-exit-'));
    const file = path.join(dir, 'idle-pool.mjs');
    writeFileSync(file, script);
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      // Killed by execFile itself if it hangs, before the test's own timeout gives up on it.
      execFile(process.execPath, [file], { timeout: 20_000, killSignal: 'SIGKILL' }, (err, out) =>
        err ? reject(err) : resolve({ stdout: out }),
      ),
    ).finally(() => rmSync(dir, { recursive: true, force: true }));
    // The pending run held the process open until it answered; then the idle pool let it exit.
    expect(stdout.trim()).toBe('ran 200');
  }, 30_000);
});
