import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINE_MS, walkFailoverList, type AttemptOutcome } from './failover-walk.ts';
import { NodeFault } from './forward.ts';
import { ATTEMPT_TIMEOUT_FLOOR_MS, LatencyTracker } from './latency-tracker.ts';
import type { WalkClock } from './walk-clock.ts';

/** Timers that fire only when `run` is called, in due order, each after the reactions of the last have settled. */
function steppedClock() {
  let nowMs = 0;
  const timers: Array<{ atMs: number; fn: () => void; cancelled: boolean }> = [];
  const clock: WalkClock = {
    now: () => nowMs,
    setTimeout: (fn, delayMs) => {
      const t = { atMs: nowMs + delayMs, fn, cancelled: false };
      timers.push(t);
      return t;
    },
    clearTimeout: (h) => {
      if (h) (h as { cancelled: boolean }).cancelled = true;
    },
  };
  const run = async () => {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const live = timers.filter((t) => !t.cancelled).sort((a, b) => a.atMs - b.atMs);
      if (!live.length) return;
      timers.splice(timers.indexOf(live[0]!), 1);
      nowMs = live[0]!.atMs;
      live[0]!.fn();
    }
  };
  return { clock, run, now: () => nowMs };
}

const node = (id: string) => ({ node: { id } });
/** A node's answer after `ms` (silent when Infinity, refusing when `refuse`); an abort rejects it. */
const behave = (clock: WalkClock, o: { ms: number; refuse?: boolean }, signal: AbortSignal) =>
  new Promise<string>((resolve, reject) => {
    const t = Number.isFinite(o.ms)
      ? clock.setTimeout(() => (o.refuse ? reject(new NodeFault({ nodeId: 'n', kind: 'refused' })) : resolve('answer')), o.ms)
      : undefined;
    signal.addEventListener('abort', () => (clock.clearTimeout(t), reject(new Error('aborted'))), {
      once: true,
    });
  });

describe('walkFailoverList: the gateway policy on an injected clock', () => {
  it('cuts a silent node without history at half the deadline, reports every attempt to placement and records the answer', async () => {
    const { clock, run, now } = steppedClock();
    const latency = new LatencyTracker();
    const reports: AttemptOutcome[] = [];
    const walk = walkFailoverList({
      candidates: [node('silent'), node('good')],
      model: 'm',
      latency,
      attempt: (c, signal) => behave(clock, { ms: c.node.id === 'silent' ? Infinity : 25 }, signal),
      reportOutcome: (o) => void reports.push(o),
      log: () => {},
      clock,
    });
    await run();
    expect((await walk).candidate.node.id).toBe('good');
    expect(now()).toBe(DEFAULT_DEADLINE_MS / 2 + 25);
    expect(reports).toEqual([
      { nodeId: 'silent', model: 'm', latencyMs: DEFAULT_DEADLINE_MS / 2, ok: false },
      { nodeId: 'good', model: 'm', latencyMs: 25, ok: true },
    ]);
    expect(latency.p95Ms('good')).toBe(50); // one sample: still the default hedge delay
    for (let i = 0; i < 7; i++) latency.record('good', 25);
    expect(latency.p95Ms('good')).toBe(25);
  });

  it('cuts a silent node with a fast history at the attempt-timeout floor, within a policy deadline', async () => {
    const { clock, run, now } = steppedClock();
    const latency = new LatencyTracker();
    for (let i = 0; i < 8; i++) latency.record('silent', 30);
    const walk = walkFailoverList({
      candidates: [node('silent'), node('good')],
      model: 'm',
      policy: { deadlineMs: 3_000 },
      latency,
      attempt: (c, signal) => behave(clock, { ms: c.node.id === 'silent' ? Infinity : 25 }, signal),
      log: () => {},
      clock,
    });
    await run();
    expect((await walk).candidate.node.id).toBe('good');
    expect(now()).toBe(ATTEMPT_TIMEOUT_FLOOR_MS + 25);
  });

  it('hedges after the first node’s p95 when the policy asks', async () => {
    const { clock, run, now } = steppedClock();
    const latency = new LatencyTracker();
    for (let i = 0; i < 8; i++) latency.record('slow', 70);
    const walk = walkFailoverList({
      candidates: [node('slow'), node('fast')],
      model: 'm',
      policy: { hedge: true },
      latency,
      attempt: (c, signal) => behave(clock, { ms: c.node.id === 'slow' ? 900 : 20 }, signal),
      log: () => {},
      clock,
    });
    await run();
    expect((await walk).candidate.node.id).toBe('fast');
    expect(now()).toBe(70 + 20);
  });

  it('a failing outcome report, thrown or rejected, is logged and the request is still answered', async () => {
    for (const reportOutcome of [
      () => {
        throw new Error('shard down');
      },
      () => Promise.reject(new Error('shard down')),
    ]) {
      const { clock, run } = steppedClock();
      const logged: string[] = [];
      const walk = walkFailoverList({
        candidates: [node('refuses'), node('good')],
        model: 'm',
        latency: new LatencyTracker(),
        attempt: (c, signal) => behave(clock, { ms: 5, refuse: c.node.id === 'refuses' }, signal),
        reportOutcome,
        log: (m) => logged.push(m),
        clock,
      });
      await run();
      expect((await walk).candidate.node.id).toBe('good');
      expect(logged).toEqual([
        'outcome report for refuses failed: shard down',
        'outcome report for good failed: shard down',
      ]);
    }
  });
});
