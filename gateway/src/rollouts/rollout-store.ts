import type { Rollout, VersionPolicy } from './rollout-spec.ts';

/**
 * Where rollouts and version policies are kept, so a restarted gateway carries on with the same
 * rollout (same id, so the same sticky cohorts and canary nodes) and the same policies. SQLite under
 * the gateway's data directory on Node (`adapters/sqlite-rollout-store.ts`); memory for tests.
 * Writes are synchronous and durable when they return: a decision is never half-applied.
 */
export interface RolloutStore {
  loadRollouts(): Rollout[];
  loadPolicies(): VersionPolicy[];
  /** Writes a rollout and/or a policy together (one transaction): a decision lands whole or not at all. */
  save(change: { rollout?: Rollout; policy?: VersionPolicy }): void;
}

/** Finished rollouts kept, newest first; older ones are dropped from the store. */
export const MAX_KEPT_ROLLOUTS = 500;

export class MemoryRolloutStore implements RolloutStore {
  readonly #rollouts = new Map<string, Rollout>();
  readonly #policies = new Map<string, VersionPolicy>();

  loadRollouts(): Rollout[] {
    return [...this.#rollouts.values()].map((r) => structuredClone(r));
  }

  loadPolicies(): VersionPolicy[] {
    return [...this.#policies.values()].map((p) => structuredClone(p));
  }

  save(change: { rollout?: Rollout; policy?: VersionPolicy }): void {
    if (change.rollout) this.#rollouts.set(change.rollout.id, structuredClone(change.rollout));
    if (change.policy) this.#policies.set(change.policy.model, structuredClone(change.policy));
  }
}
