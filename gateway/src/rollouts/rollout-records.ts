import type { VersionPlacement } from '@hexedge/placement';
import { contentIdOf, type CatalogueReader } from './catalogue-versions.ts';
import {
  MAX_ROLLOUT_HISTORY,
  type NewRollout,
  type Rollout,
  type RolloutEvent,
  type VersionPolicy,
} from './rollout-spec.ts';

/** RolloutManager's records as data (split out of rollout-manager.ts): decisions, history, placements. */

export function withEvent(rollout: Rollout, event: RolloutEvent): Rollout {
  return { ...rollout, history: [...rollout.history, event].slice(-MAX_ROLLOUT_HISTORY) };
}

/** A new running rollout's record, and the model's policy when the candidate was withdrawn before. */
export function createdRecords(o: {
  spec: NewRollout;
  id: string;
  baseline: string;
  /** The model's policy before the rollout. */
  old: VersionPolicy | undefined;
  nowMs: number;
}): { rollout: Rollout; nextPolicy: VersionPolicy | undefined } {
  const { spec, baseline, nowMs } = o;
  const rollout: Rollout = withEvent(
    {
      ...spec,
      id: o.id,
      baseline,
      state: 'running',
      createdAtMs: nowMs,
      history: [],
    },
    {
      atMs: nowMs,
      event: 'created',
      detail: `${spec.model}: ${baseline} → ${spec.candidate}, canary ${spec.canary.percent} % by ${spec.canary.by}, shadow ${spec.shadow.percent} %`,
    },
  );
  // A version rolled out again is no longer withdrawn (the rollout decides about it now).
  const policy = o.old;
  const nextPolicy = policy?.withdrawn.includes(spec.candidate)
    ? { ...policy, withdrawn: policy.withdrawn.filter((v) => v !== spec.candidate), updatedAtMs: nowMs }
    : undefined;
  return { rollout, nextPolicy };
}

/** The rollout record and the model's version policy after a decision, both to be saved before either applies. */
export function decidedRecords(o: {
  rollout: Rollout;
  /** The model's policy before the decision. */
  old: VersionPolicy | undefined;
  state: 'promoted' | 'rolled-back';
  decidedBy: 'auto' | 'admin';
  reason: string;
  nowMs: number;
}): { next: Rollout; policy: VersionPolicy } {
  const { rollout, nowMs } = o;
  const promoted = o.state === 'promoted';
  const next = withEvent(
    {
      ...rollout,
      state: o.state,
      endedAtMs: nowMs,
      decidedBy: o.decidedBy,
      reason: o.reason,
      ...(o.decidedBy === 'auto' && !promoted ? { regressionSeenAtMs: nowMs } : {}),
    },
    {
      atMs: nowMs,
      event: o.state,
      detail: `${o.decidedBy === 'auto' ? 'automatically' : 'by an admin'}: ${o.reason}`,
    },
  );
  // The version that keeps serving is pinned; a rolled-back one is withdrawn from `latest` and `all`.
  const withdrawn = new Set(o.old?.withdrawn ?? []);
  if (promoted) withdrawn.delete(rollout.candidate);
  else withdrawn.add(rollout.candidate);
  const policy: VersionPolicy = {
    model: rollout.model,
    mode: 'specific',
    version: promoted ? rollout.candidate : rollout.baseline,
    withdrawn: [...withdrawn].sort(),
    updatedAtMs: nowMs,
  };
  return { next, policy };
}

/** Where each rolled-out version goes: running → canary share, promoted and still pinned → everywhere, withdrawn → nowhere. */
export function versionPlacementsOf(o: {
  rollouts: Iterable<Rollout>;
  policies: ReadonlyMap<string, VersionPolicy>;
  catalogue: CatalogueReader;
}): VersionPlacement[] {
  const out: VersionPlacement[] = [];
  const add = (r: Rollout, stage: VersionPlacement['stage']) => {
    const contentId = contentIdOf(o.catalogue, r.model, r.candidate);
    if (!contentId) return;
    out.push({
      rolloutId: r.id,
      model: r.model,
      version: r.candidate,
      contentId,
      stage,
      nodeShare: r.canary.nodeShare,
      ...(r.canary.maxNodes !== undefined ? { maxNodes: r.canary.maxNodes } : {}),
    });
  };
  const newestFirst = [...o.rollouts].sort((a, b) => b.createdAtMs - a.createdAtMs);
  const seen = new Set<string>();
  for (const r of newestFirst) {
    const key = `${r.model}\u0000${r.candidate}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const policy = o.policies.get(r.model);
    if (r.state === 'running') add(r, 'canary');
    else if (r.state === 'promoted' && policy?.mode === 'specific' && policy.version === r.candidate)
      add(r, 'promoted');
    else if (r.state === 'rolled-back' && policy?.withdrawn.includes(r.candidate)) add(r, 'withdrawn');
  }
  return out;
}
