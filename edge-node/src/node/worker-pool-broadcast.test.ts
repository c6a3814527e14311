import { afterEach, describe, expect, it } from 'vitest';
import type { PoolTestControl, PoolTestData, PoolTestResult } from '../../test/fixtures/pool-worker.ts';
import { WorkerPool } from './worker-pool.ts';

/** WorkerPool.broadcast and start data asked at each start: what the shared inference threads build on. */
const FIXTURE = new URL('../../test/fixtures/pool-worker.ts', import.meta.url);
const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function startPool(size: number, tag: () => string) {
  const starts = new Int32Array(new SharedArrayBuffer(4));
  const pool = await WorkerPool.start({
    label: 'fixture@1',
    script: FIXTURE,
    size,
    workerData: (): PoolTestData => ({ starts, tag: tag() }),
  });
  pools.push(pool);
  return pool;
}
const note = (pool: WorkerPool) =>
  pool.broadcast<{ threadId: number; tag: string }>({ op: 'note' } satisfies PoolTestControl);

describe('WorkerPool.broadcast', () => {
  it('reaches every worker, busy ones too, and resolves with each answer', async () => {
    const pool = await startPool(3, () => 'v1');
    const busy = pool.run<PoolTestResult>({ op: 'sleep', ms: 200 });
    const answers = await note(pool);
    expect(new Set(answers.map((a) => a.threadId)).size).toBe(3);
    expect(answers.map((a) => a.tag)).toEqual(['v1', 'v1', 'v1']);
    expect((await busy).value).toBe(200);
  });

  it('rejects with a worker’s refusal', async () => {
    const pool = await startPool(2, () => 'v1');
    await expect(pool.broadcast({ op: 'refuse' } satisfies PoolTestControl)).rejects.toThrow(
      'refused by the fixture',
    );
    expect((await note(pool)).length).toBe(2);
  });

  it('a worker that exits on a broadcast fails it with failOnExit, and its replacement starts from the start data as it is then', async () => {
    let tag = 'v1';
    const pool = await startPool(1, () => tag);
    const exiting = pool.broadcast({ op: 'exit', code: 7 } satisfies PoolTestControl, { failOnExit: true });
    await expect(exiting).rejects.toThrow(/exited with code 7/);
    tag = 'v2'; // settled before the replacement starts: what the failure changes, the replacement sees
    await expect.poll(() => pool.respawns, { timeout: 5_000 }).toBe(1);
    await expect.poll(async () => (await note(pool)).map((a) => a.tag), { timeout: 5_000 }).toEqual(['v2']);
    // Without failOnExit an exit only leaves that worker out.
    const left = await pool.broadcast({ op: 'exit', code: 3 } satisfies PoolTestControl);
    expect(left).toEqual([]);
  });
});
