import { describe, expect, it } from 'vitest';
import { inProcessCodecRunner, JsCodec } from '../src/index.ts';
import {
  KILL_GRACE_MS,
  MAX_WAITING_CALLS,
  workerCodecRunner,
  WorkerCodecRunner,
} from '../src/node/worker-codec-runner.ts';
import { codecSource } from './codecs/device-repository.ts';

/*
 * The Node codec runner: a JS codec in its own worker thread, its source evaluated once, every call
 * timed by the host. Real worker threads, real QuickJS; nothing faked.
 */
const ctx = { fPort: 1, recvTimeMs: 0 };
const LIMITS = { timeoutMs: 100, memoryBytes: 16 << 20, evalTimeoutMs: 2_000 };
const uplink = (bytes: number[]) => ({
  entry: 'uplink' as const,
  inputJson: JSON.stringify({ bytes, fPort: 1, recvTimeMs: 0 }),
});

/** Watches the event loop while `work` runs: how many 5 ms ticks fired and the longest gap between two. */
async function watchLoop<T>(
  work: () => Promise<T>,
): Promise<{ value: T; ticks: number; maxGapMs: number; tookMs: number }> {
  let ticks = 0;
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  const started = performance.now();
  try {
    const value = await work();
    return { value, ticks, maxGapMs, tookMs: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

describe('worker codec runner', () => {
  it('a while(true) codec: the event loop keeps running, the call fails at its 100 ms budget, the codec is started afresh', async () => {
    const runner = new WorkerCodecRunner({
      source:
        'var calls = 0;\nfunction decodeUplink(i) { calls++; if (i.bytes[0] === 1) { while (true) {} } return { data: { calls: calls } }; }',
      limits: LIMITS,
    });
    const warm = await runner.call(uplink([0]));
    expect(warm).toMatchObject({ ok: true, json: '{"style":"ttn","result":{"data":{"calls":1}}}' });

    const { value, ticks, maxGapMs, tookMs } = await watchLoop(() => runner.call(uplink([1])));
    // QuickJS's interrupt in the thread stops it after 100 ms of its CPU time (the host's kill at 100 ms +
    // KILL_GRACE_MS is the backstop); the call fails with the budget named.
    expect(value).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^time limit of 100 ms exceeded/),
      fault: 'time',
    });
    expect(tookMs).toBeGreaterThanOrEqual(99);
    expect(tookMs).toBeLessThan(100 + KILL_GRACE_MS);
    // A 5 ms timer kept firing while the codec spun in its thread (on the event loop: no tick for 100 ms).
    console.log(
      `while(true) call: ${tookMs.toFixed(0)} ms, ${ticks} ticks, longest gap ${maxGapMs.toFixed(0)} ms`,
    );
    expect(ticks).toBeGreaterThanOrEqual(4);
    // Run on the event loop, the codec would have held it for the whole 100 ms budget.
    expect(maxGapMs).toBeLessThan(100);

    expect(runner.starts).toBe(1);
    // The next call gets a fresh thread and a freshly evaluated source: `calls` starts again.
    expect(await runner.call(uplink([0]))).toMatchObject({
      ok: true,
      json: '{"style":"ttn","result":{"data":{"calls":1}}}',
    });
    expect(runner.starts).toBe(2);
    await runner.close();
  });

  it('the budget is the call’s: a source that takes longer than the budget to evaluate still serves calls', async () => {
    // The top level busy-waits 300 ms (tables being built); each call is instant.
    const source =
      'var until = Date.now() + 300; while (Date.now() < until) {}\nfunction decodeUplink(i) { return { data: { ok: true } }; }';
    const codec = new JsCodec({ source, timeoutMs: 50, runner: workerCodecRunner });
    expect(await codec.decode(Uint8Array.of(1), ctx)).toEqual({
      data: { ok: true },
      errors: [],
      warnings: [],
    });
    await codec.close();
  });

  it('a source that does not evaluate fails every call with the same clear error, without restarting the thread each time', async () => {
    const broken = new WorkerCodecRunner({
      source: 'function decodeUplink(i) { return { data: ',
      limits: LIMITS,
    });
    const first = await broken.call(uplink([1]));
    expect(first).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^evaluating the source: SyntaxError: /),
    });
    expect(await broken.call(uplink([1]))).toEqual({ ...first, logs: [] });
    expect(broken.starts).toBe(1);

    const spins = new WorkerCodecRunner({ source: 'for (;;) {}', limits: { ...LIMITS, evalTimeoutMs: 300 } });
    const { value, maxGapMs } = await watchLoop(() => spins.call(uplink([1])));
    expect(value).toMatchObject({ ok: false, error: 'evaluating the source: time limit of 300 ms exceeded' });
    expect(maxGapMs).toBeLessThan(150);
    expect(await spins.call(uplink([1]))).toMatchObject({
      ok: false,
      error: 'evaluating the source: time limit of 300 ms exceeded',
    });
    expect(spins.starts).toBe(1);
    await Promise.all([broken.close(), spins.close()]);
  });

  it('warm() loads the codec ahead of its first call: that call then costs the call alone', async () => {
    const runner = new WorkerCodecRunner({ source: codecSource('multisense.js'), limits: LIMITS });
    await runner.warm();
    const started = performance.now();
    const first = await runner.call({
      entry: 'uplink',
      inputJson: JSON.stringify({ bytes: [0x08, 0x00, 0x39, 0x09, 100, 0, 0], fPort: 5, recvTimeMs: 0 }),
    });
    const firstMs = performance.now() - started;
    expect(first).toMatchObject({ ok: true, json: expect.stringContaining('"temperatureC":25') });
    // Cold, the same call waits for a thread and 220 KiB of source (150–700 ms measured); warm, a few ms at most.
    expect(firstMs).toBeLessThan(50);
    expect(runner.starts).toBe(1);
    await runner.close();
  });

  it('refuses calls past MAX_WAITING_CALLS at once instead of queueing without bound', async () => {
    // A budget no call here comes near, even on a loaded machine: this is about the queue.
    const runner = new WorkerCodecRunner({
      source: 'function decodeUplink(i) { return { data: { b: i.bytes[0] } }; }',
      limits: { ...LIMITS, timeoutMs: 5_000 },
    });
    const calls = Array.from({ length: MAX_WAITING_CALLS + 20 }, (_, i) => runner.call(uplink([i % 256])));
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(MAX_WAITING_CALLS);
    expect(outcomes.at(-1)).toEqual({
      ok: false,
      error: `codec busy: ${MAX_WAITING_CALLS} calls already waiting`,
      logs: [],
    });
    await runner.close();
  });

  it('close lets the calls already made finish, then refuses new ones', async () => {
    const runner = new WorkerCodecRunner({
      source: 'function decodeUplink(i) { return { data: { b: i.bytes[0] } }; }',
      limits: LIMITS,
    });
    const made = runner.call(uplink([7]));
    const closed = runner.close();
    expect(await made).toMatchObject({ ok: true });
    await closed;
    expect(await runner.call(uplink([8]))).toEqual({
      ok: false,
      error: 'codec closed: its profile was replaced or deleted',
      logs: [],
    });
  });
});

describe('in-process runner (runtimes without worker threads)', () => {
  it('stops a loop at the time limit by QuickJS’s interrupt and evaluates the source afresh', async () => {
    const codec = new JsCodec({
      source:
        'var calls = 0;\nfunction decodeUplink(i) { calls++; if (i.bytes[0] === 1) { while (true) {} } return { data: { calls: calls } }; }',
      timeoutMs: 50,
      runner: inProcessCodecRunner,
    });
    expect((await codec.decode(Uint8Array.of(0), ctx)).data).toEqual({ calls: 1 });
    expect((await codec.decode(Uint8Array.of(0), ctx)).data).toEqual({ calls: 2 });
    expect(await codec.decode(Uint8Array.of(1), ctx)).toEqual({
      errors: ['JS codec: time limit of 50 ms exceeded'],
      warnings: [],
    });
    expect((await codec.decode(Uint8Array.of(0), ctx)).data).toEqual({ calls: 1 });
    await codec.close();
  });
});
