import { describe, expect, it } from 'vitest';
import { judgeRollout } from './judge.ts';
import { newRolloutSchema } from './rollout-spec.ts';
import type { VersionStats } from './version-window.ts';
import { percentile, VersionWindow } from './version-window.ts';

const spec = newRolloutSchema.parse({
  model: 'm',
  candidate: '2',
  promotion: { afterMs: 60_000, minSamples: 100, minComparisons: 10 },
});
const stats = (o: Partial<VersionStats> = {}): VersionStats => ({
  answers: 0,
  errors: 0,
  errorRate: 0,
  p50Ms: null,
  p95Ms: null,
  latencySamples: 0,
  compared: 0,
  diverged: 0,
  divergenceRate: 0,
  maxDifference: null,
  totalAnswers: 0,
  totalErrors: 0,
  totalCompared: 0,
  totalDiverged: 0,
  ...o,
});
const judge = (
  candidate: Partial<VersionStats>,
  baseline: Partial<VersionStats> = {},
  first: number | null = 0,
  nowMs = 1_000,
) =>
  judgeRollout({
    rollout: { ...spec, ...(first !== null ? { candidateFirstAnsweredAtMs: first } : {}) },
    candidate: stats(candidate),
    baseline: stats(baseline),
    nowMs,
  });

describe('judgeRollout', () => {
  it('rolls back on each regression only once there are enough samples to judge it', () => {
    expect(judge({ answers: 19, errors: 19, errorRate: 1 }).action).toBe('hold'); // minSamples 20
    expect(judge({ answers: 20, errors: 2, errorRate: 0.1 })).toMatchObject({
      action: 'rollback',
      reason: expect.stringMatching(
        /^error rate 10\.0 % \(2 of 20 answers in the last 30 s\) is above 5\.0 %/,
      ),
    });
    expect(judge({ compared: 9, diverged: 9, divergenceRate: 1 }).action).toBe('hold'); // minComparisons 10
    expect(judge({ compared: 10, diverged: 1, divergenceRate: 0.1, maxDifference: 0.25 })).toMatchObject({
      action: 'rollback',
      reason: expect.stringMatching(/^output divergence 10\.0 % .*largest numeric difference 0\.250/),
    });
    // p95: against the baseline's (× 2 + 50 ms slack), and an absolute ceiling when one is set.
    expect(judge({ latencySamples: 20, p95Ms: 130 }, { latencySamples: 20, p95Ms: 40 }).action).toBe('hold');
    expect(judge({ latencySamples: 20, p95Ms: 131 }, { latencySamples: 20, p95Ms: 40 })).toMatchObject({
      action: 'rollback',
      reason: expect.stringMatching(/^p95 131 ms .* above 130 ms \(the baseline's 40 ms × 2 \+ 50 ms\)/),
    });
    expect(judge({ latencySamples: 20, p95Ms: 500 }, { latencySamples: 5, p95Ms: 40 }).action).toBe('hold'); // no baseline to compare with
    const ceiling = judgeRollout({
      rollout: { ...spec, thresholds: { ...spec.thresholds, maxP95Ms: 100 } },
      candidate: stats({ latencySamples: 20, p95Ms: 101 }),
      baseline: stats(),
      nowMs: 0,
    });
    expect(ceiling).toMatchObject({
      action: 'rollback',
      reason: expect.stringMatching(/above the 100 ms ceiling/),
    });
  });

  it('promotes only after serving long enough with enough answers and comparisons, and never when auto is off', () => {
    expect(judge({}, {}, null)).toMatchObject({
      action: 'hold',
      waiting: expect.stringMatching(/not answered yet/),
    });
    expect(judge({ totalAnswers: 100, totalCompared: 10 }, {}, 0, 59_000)).toMatchObject({
      action: 'hold',
      waiting: expect.stringMatching(/1 s more serving/),
    });
    expect(judge({ totalAnswers: 99, totalCompared: 10 }, {}, 0, 60_000)).toMatchObject({
      waiting: expect.stringMatching(/1 more answers/),
    });
    expect(judge({ totalAnswers: 100, totalCompared: 10 }, {}, 0, 60_000)).toMatchObject({
      action: 'promote',
      reason: expect.stringMatching(/^healthy for 60 s: 100 answers/),
    });
    const manual = judgeRollout({
      rollout: { ...spec, promotion: { ...spec.promotion, auto: false }, candidateFirstAnsweredAtMs: 0 },
      candidate: stats({ totalAnswers: 1e6, totalCompared: 1e6 }),
      baseline: stats(),
      nowMs: 1e9,
    });
    expect(manual.action).toBe('hold');
  });
});

describe('VersionWindow', () => {
  it('keeps a bounded, time-limited window and totals since the start', () => {
    const w = new VersionWindow();
    for (let i = 0; i < 3_000; i++) w.answered({ atMs: i, latencyMs: i % 100, ok: i % 10 !== 0 });
    const s = w.stats({ nowMs: 3_000, windowMs: 10_000 });
    expect(s.answers).toBe(2_000); // MAX_WINDOW_SAMPLES
    expect(s.totalAnswers).toBe(3_000);
    expect(s.errorRate).toBeCloseTo(0.1);
    expect(w.stats({ nowMs: 3_000, windowMs: 100 }).answers).toBe(100);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    // Mirrors count as answers (and errors) but not in the percentiles: callers never waited for them.
    const m = new VersionWindow();
    m.answered({ atMs: 0, latencyMs: 10, ok: true });
    m.answered({ atMs: 0, latencyMs: 900, ok: true, mirror: true });
    expect(m.stats({ nowMs: 0, windowMs: 1_000 })).toMatchObject({
      answers: 2,
      p95Ms: 10,
      latencySamples: 1,
    });
    expect(percentile([], 0.5)).toBeNull();
  });
});
