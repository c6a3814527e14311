import type { RolloutManager } from '../rollouts/rollout-manager.ts';
import type { GatewayMetrics } from './metrics.ts';

/**
 * Rollout series, read from the RolloutManager when Prometheus scrapes. Labels are bounded: a rollout
 * id and its model exist only for running rollouts (at most MAX_RUNNING_ROLLOUTS), versions are the
 * rollout's two, roles/sources/outcomes are fixed words. Counters count since the gateway started
 * (a restart or a new rollout starts them again, which Prometheus reads as a counter reset).
 */
export function registerRolloutMetrics(metrics: GatewayMetrics, manager: RolloutManager): void {
  const nowMs = () => Date.now();
  metrics.externalCounter({
    name: 'hexedge_gateway_rollout_answers_total',
    help: 'Answers of a running rollout by version, role (candidate or baseline), source (primary: the caller got it; mirror: a shadow copy, compared and dropped) and outcome',
    labels: ['rollout', 'model', 'version', 'role', 'source', 'outcome'],
    read: () =>
      manager.running().flatMap(({ rollout, counters }) =>
        [...counters.answers].map(([key, value]) => {
          const [role, source, outcome] = key.split(' ') as [string, string, string];
          const version = role === 'candidate' ? rollout.candidate : rollout.baseline;
          return {
            labels: { rollout: rollout.id, model: rollout.model, version, role, source, outcome },
            value,
          };
        }),
      ),
  });
  metrics.externalCounter({
    name: 'hexedge_gateway_rollout_comparisons_total',
    help: "Mirrored answers compared with the caller's answer (the oracle's comparison, the catalogue's tolerance), by result",
    labels: ['rollout', 'model', 'result'],
    read: () =>
      manager.running().flatMap(({ rollout, counters }) => [
        { labels: { rollout: rollout.id, model: rollout.model, result: 'agree' }, value: counters.agreed },
        {
          labels: { rollout: rollout.id, model: rollout.model, result: 'diverge' },
          value: counters.diverged,
        },
      ]),
  });
  metrics.externalCounter({
    name: 'hexedge_gateway_rollout_mirrors_shed_total',
    help: 'Mirrors not sent because the rollout had its most in flight or the gateway was busy',
    labels: ['rollout', 'model'],
    read: () =>
      manager
        .running()
        .map(({ rollout, counters }) => ({
          labels: { rollout: rollout.id, model: rollout.model },
          value: counters.mirrorsShed,
        })),
  });
  metrics.externalCounter({
    name: 'hexedge_gateway_rollout_fallbacks_total',
    help: 'Canary requests answered by the baseline after the candidate failed or had no node',
    labels: ['rollout', 'model'],
    read: () =>
      manager
        .running()
        .map(({ rollout, counters }) => ({
          labels: { rollout: rollout.id, model: rollout.model },
          value: counters.fallbacks,
        })),
  });
  const windows = () =>
    manager.running().flatMap((live) => {
      const windowMs = live.rollout.thresholds.windowMs;
      return (['candidate', 'baseline'] as const).map((role) => ({
        live,
        role,
        stats: live.windows[role].stats({ nowMs: nowMs(), windowMs }),
      }));
    });
  metrics.gauge({
    name: 'hexedge_gateway_rollout_window_error_ratio',
    help: "Failed answers over answers in the rollout's window, per version role (judged against maxErrorRate)",
    labels: ['rollout', 'model', 'role'],
    read: () =>
      windows().map(({ live, role, stats }) => ({
        labels: { rollout: live.rollout.id, model: live.rollout.model, role },
        value: stats.errorRate,
      })),
  });
  metrics.gauge({
    name: 'hexedge_gateway_rollout_window_p95_seconds',
    help: "p95 answer time in the rollout's window, per version role (judged against maxP95Ms and the baseline's)",
    labels: ['rollout', 'model', 'role'],
    read: () =>
      windows()
        .filter(({ stats }) => stats.p95Ms !== null)
        .map(({ live, role, stats }) => ({
          labels: { rollout: live.rollout.id, model: live.rollout.model, role },
          value: stats.p95Ms! / 1000,
        })),
  });
  metrics.gauge({
    name: 'hexedge_gateway_rollout_window_divergence_ratio',
    help: "Compared answers that differ beyond the tolerance, over those compared in the rollout's window (judged against maxDivergenceRate)",
    labels: ['rollout', 'model'],
    read: () =>
      windows()
        .filter(({ role }) => role === 'candidate')
        .map(({ live, stats }) => ({
          labels: { rollout: live.rollout.id, model: live.rollout.model },
          value: stats.divergenceRate,
        })),
  });
  metrics.gauge({
    name: 'hexedge_gateway_rollouts',
    help: 'Rollouts the gateway keeps, by state (running, promoted, rolled-back)',
    labels: ['state'],
    read: () => {
      const counts = new Map<string, number>([
        ['running', manager.running().length],
        ['promoted', 0],
        ['rolled-back', 0],
      ]);
      for (const r of manager.decisions()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
      return [...counts].map(([state, value]) => ({ labels: { state }, value }));
    },
  });
  metrics.gauge({
    name: 'hexedge_gateway_rollout_last_decision_seconds',
    help: "The newest finished rollout per model: seconds from the candidate's first answer to its promotion or rollback",
    labels: ['model', 'decision', 'decided_by'],
    read: () => {
      const newest = new Map<string, ReturnType<RolloutManager['decisions']>[number]>();
      for (const r of manager.decisions())
        if (
          r.candidateFirstAnsweredAtMs !== undefined &&
          r.endedAtMs !== undefined &&
          (newest.get(r.model)?.createdAtMs ?? -1) < r.createdAtMs
        )
          newest.set(r.model, r);
      return [...newest.values()].map((r) => ({
        labels: { model: r.model, decision: r.state, decided_by: r.decidedBy ?? 'auto' },
        value: (r.endedAtMs! - r.candidateFirstAnsweredAtMs!) / 1000,
      }));
    },
  });
}
