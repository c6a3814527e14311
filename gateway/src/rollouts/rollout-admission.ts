// The rules a new rollout must pass before anything is written: both versions catalogued, one running
// rollout per model and a bounded number in all, and two different versions. Apart from RolloutManager
// so the refusals an operator can meet read in one place.
import { HexEdgeError } from '@hexedge/protocol';
import { requireCatalogued, type CatalogueReader } from './catalogue-versions.ts';
import type { NewRollout } from './rollout-spec.ts';
import type { LiveRollout } from './rollout-traffic.ts';

/** Running rollouts at once (all models): each keeps windows and may mirror traffic. */
export const MAX_RUNNING_ROLLOUTS = 64;

/**
 * Checks a parsed rollout spec against the catalogue and the rollouts running now (and its baseline,
 * when it names one); returns the model's catalogued versions, for the default baseline. Synchronous,
 * so a rollout created with its baseline is running before another create() can look.
 */
export function admitRollout(o: {
  spec: NewRollout;
  running: ReadonlyMap<string, LiveRollout>;
  catalogue: CatalogueReader;
}): string[] {
  const { spec, running } = o;
  const versions = requireCatalogued({
    catalogue: o.catalogue,
    model: spec.model,
    version: spec.candidate,
    field: 'candidate',
  });
  const existing = running.get(spec.model);
  if (existing)
    throw new HexEdgeError(
      'CONFLICT',
      `model '${spec.model}' already has a running rollout (${existing.rollout.id}: ${existing.rollout.baseline} → ${existing.rollout.candidate}); promote or abort it first`,
    );
  if (running.size >= MAX_RUNNING_ROLLOUTS)
    throw new HexEdgeError(
      'CONFLICT',
      `${running.size} rollouts are running (at most ${MAX_RUNNING_ROLLOUTS}); finish one first`,
    );
  if (spec.baseline !== undefined)
    requireCatalogued({
      catalogue: o.catalogue,
      model: spec.model,
      version: spec.baseline,
      field: 'baseline',
    });
  return versions;
}

/** A rollout moves from one version to another: its baseline (given or default) is not its candidate. */
export function requireTwoVersions(baseline: string, candidate: string): void {
  if (baseline === candidate)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `baseline and candidate are both '${baseline}': a rollout moves from one version to another`,
      { field: 'baseline' },
    );
}
