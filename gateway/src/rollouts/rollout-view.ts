import { judgeRollout, type Verdict } from './judge.ts';
import { toleranceBetween, type CatalogueReader } from './catalogue-versions.ts';
import type { Rollout } from './rollout-spec.ts';
import type { LiveRollout } from './rollout-traffic.ts';
import type { VersionStats } from './version-window.ts';

/** A rollout as the API and the dashboard show it: the record, and for a running one its live figures. */
export interface RolloutView extends Rollout {
  /** From the candidate's first answer to the decision, in ms (the time to rollback or promotion). */
  timeToDecisionMs?: number;
  live?: {
    candidate: VersionStats;
    baseline: VersionStats;
    mirrorsInFlight: number;
    mirrorsShed: number;
    fallbacks: number;
    unavailable: number;
    /** Failures counted against each version since the rollout began here, by error code. */
    errorCodes: Record<string, Record<string, number>>;
    tolerance: number;
    verdict: Verdict;
  };
}

/** The candidate's and the baseline's windows as the judge reads them. */
export function statsOf(live: LiveRollout, nowMs: number) {
  const windowMs = live.rollout.thresholds.windowMs;
  return {
    candidate: live.windows.candidate.stats({ nowMs, windowMs }),
    baseline: live.windows.baseline.stats({ nowMs, windowMs }),
  };
}

/** The output tolerance between a rollout's two versions: its own threshold, else the catalogue's. */
export function toleranceOf(catalogue: CatalogueReader, rollout: Rollout): number {
  return (
    rollout.thresholds.tolerance ??
    toleranceBetween(catalogue, rollout.model, [rollout.baseline, rollout.candidate])
  );
}

/**
 * The rollout as RolloutManager.view answers it: the record with its time to decision, and while it
 * is the model's running rollout (`live`), its live figures.
 */
export function viewOf(o: {
  rollout: Rollout;
  /** The model's running rollout, if any (it may be another one than `rollout`). */
  live: LiveRollout | undefined;
  catalogue: CatalogueReader;
  verdictOf: (rolloutId: string) => Verdict | undefined;
  now: () => number;
}): RolloutView {
  const { rollout, live } = o;
  const first = rollout.candidateFirstAnsweredAtMs;
  const view: RolloutView = {
    ...rollout,
    ...(first !== undefined && rollout.endedAtMs !== undefined
      ? { timeToDecisionMs: rollout.endedAtMs - first }
      : {}),
  };
  if (live?.rollout.id === rollout.id)
    view.live = liveFiguresOf({
      rollout,
      live,
      catalogue: o.catalogue,
      verdict: o.verdictOf(rollout.id),
      nowMs: o.now(),
    });
  return view;
}

/** A running rollout's live figures (RolloutView.live); `verdict`: the timer's last judgement, if any. */
export function liveFiguresOf(o: {
  /** The record as the manager holds it (the live rollout's own, kept in step). */
  rollout: Rollout;
  live: LiveRollout;
  catalogue: CatalogueReader;
  verdict: Verdict | undefined;
  nowMs: number;
}): NonNullable<RolloutView['live']> {
  const { live, nowMs } = o;
  const { counters } = live;
  const stats = statsOf(live, nowMs);
  return {
    ...stats,
    mirrorsInFlight: live.mirrorsInFlight,
    mirrorsShed: counters.mirrorsShed,
    fallbacks: counters.fallbacks,
    unavailable: counters.unavailable,
    errorCodes: errorCodesByRole(counters.errorCodes),
    tolerance: toleranceOf(o.catalogue, o.rollout),
    // Until the timer's first judgement, what the judge says of the window now (nothing acted on).
    verdict: o.verdict ?? judgeRollout({ rollout: live.rollout, ...stats, nowMs }),
  };
}

function errorCodesByRole(codes: Map<string, number>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = { candidate: {}, baseline: {} };
  for (const [key, n] of codes) {
    const [role, code] = key.split(' ') as [string, string];
    out[role]![code] = n;
  }
  return out;
}
