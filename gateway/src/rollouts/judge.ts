import type { Rollout } from './rollout-spec.ts';
import type { VersionStats } from './version-window.ts';

/** What a rollout should do now; the reason is stored and shown as it is. */
export type Verdict =
  | { action: 'hold'; waiting: string }
  | { action: 'rollback'; reason: string }
  | { action: 'promote'; reason: string };

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const ms = (x: number) => `${Math.round(x)} ms`;

/**
 * Judges a running rollout on its window (values, not exceptions: the verdict is stored). A regression
 * — the candidate's error rate, output divergence or p95 past its threshold, each once it has enough
 * samples to be judged — rolls back. Otherwise, with automatic promotion, a candidate that has served
 * long enough, answered enough and passed enough comparisons is promoted.
 */
export function judgeRollout(o: {
  rollout: Pick<Rollout, 'thresholds' | 'promotion' | 'candidateFirstAnsweredAtMs'>;
  candidate: VersionStats;
  baseline: VersionStats;
  nowMs: number;
}): Verdict {
  const { thresholds: t, promotion: p } = o.rollout;
  const c = o.candidate;
  const windowS = `${Math.round(t.windowMs / 1000)} s`;
  if (c.answers >= t.minSamples && c.errorRate > t.maxErrorRate)
    return {
      action: 'rollback',
      reason: `error rate ${pct(c.errorRate)} (${c.errors} of ${c.answers} answers in the last ${windowS}) is above ${pct(t.maxErrorRate)}`,
    };
  if (c.compared >= t.minComparisons && c.divergenceRate > t.maxDivergenceRate)
    return {
      action: 'rollback',
      reason: `output divergence ${pct(c.divergenceRate)} (${c.diverged} of ${c.compared} compared answers in the last ${windowS} differ from the other version beyond the tolerance${c.maxDifference !== null ? `; largest numeric difference ${c.maxDifference.toPrecision(3)}` : ''}) is above ${pct(t.maxDivergenceRate)}`,
    };
  // The canary's p95 (answers callers got), against the baseline's, each once it has enough samples.
  if (c.latencySamples >= t.minSamples && c.p95Ms !== null) {
    if (t.maxP95Ms !== undefined && c.p95Ms > t.maxP95Ms)
      return {
        action: 'rollback',
        reason: `p95 ${ms(c.p95Ms)} over the last ${windowS} is above the ${ms(t.maxP95Ms)} ceiling`,
      };
    const b = o.baseline;
    if (b.latencySamples >= t.minSamples && b.p95Ms !== null) {
      const bound = b.p95Ms * t.maxP95Ratio + t.p95SlackMs;
      if (c.p95Ms > bound)
        return {
          action: 'rollback',
          reason: `p95 ${ms(c.p95Ms)} over the last ${windowS} is above ${ms(bound)} (the baseline's ${ms(b.p95Ms)} × ${t.maxP95Ratio} + ${ms(t.p95SlackMs)})`,
        };
    }
  }
  if (!p.auto) return { action: 'hold', waiting: 'automatic promotion is off: promote through the API' };
  const first = o.rollout.candidateFirstAnsweredAtMs;
  if (first === undefined)
    return { action: 'hold', waiting: 'the candidate has not answered yet (nodes may still be pulling it)' };
  const servedMs = o.nowMs - first;
  const missing = [
    servedMs < p.afterMs ? `${Math.ceil((p.afterMs - servedMs) / 1000)} s more serving` : '',
    c.totalAnswers < p.minSamples ? `${p.minSamples - c.totalAnswers} more answers` : '',
    c.totalCompared < p.minComparisons ? `${p.minComparisons - c.totalCompared} more comparisons` : '',
  ].filter(Boolean);
  if (missing.length)
    return { action: 'hold', waiting: `healthy so far; promotion needs ${missing.join(', ')}` };
  return {
    action: 'promote',
    reason: `healthy for ${Math.round(servedMs / 1000)} s: ${c.totalAnswers} answers (error rate ${pct(c.errorRate)} in the window), ${c.totalCompared} comparisons (${c.totalDiverged} diverged), p95 ${c.p95Ms === null ? 'n/a' : ms(c.p95Ms)}`,
  };
}
