import type { Hardware, LatLng, ModelManifest } from '@hexedge/protocol';
import { DEMAND_WINDOW_MS, type DemandTotal, type DemandWindow } from './demand.ts';
import { DemandNear } from './demand-near.ts';
import { joiningReachKm, modelsForJoiningNode, type JoiningModel } from './joining-node.ts';
import type { IndexedNode } from './nearest-search.ts';
import type { NodeIndex } from './node-index.ts';
import type { NodeRecord } from './node-record.ts';
import type { NodeRegistry } from './node-registry.ts';
import { planModelPlacement, type Plan } from './planner.ts';
import { applyVersionPlacements, type VersionPlacement } from './version-placement.ts';

/** The model plan is recomputed at most this often (heartbeats ask for it every interval). */
export const PLAN_TTL_MS = 30_000;
/** The planner looks at no more than this many nodes around a demand hex. */
const PLANNER_NEAR_LIMIT = 32;

/** The plan, when it was made, and the demand it was made from (grouped by hex on first use by a joining node's question). */
interface Planned {
  plan: Plan;
  atMs: number;
  demand: DemandTotal[];
  near?: DemandNear;
}

/**
 * Placement's model plan (split out of placement.ts): which models each node should hold, made from
 * the demand window at most every PLAN_TTL_MS, with the rollouts' version placements on top, and what
 * a joining node should pull first.
 */
export class ModelPlanBook {
  readonly #registry: NodeRegistry;
  readonly #index: NodeIndex<IndexedNode>;
  readonly #demand: DemandWindow;
  readonly #now: () => number;
  /** The plan and the demand it was made from (grouped by hex on first use by a joining node's question). */
  #plan: Planned | undefined;
  #versionPlacements: readonly VersionPlacement[] = [];

  constructor(o: {
    registry: NodeRegistry;
    index: NodeIndex<IndexedNode>;
    demand: DemandWindow;
    now: () => number;
  }) {
    this.#registry = o.registry;
    this.#index = o.index;
    this.#demand = o.demand;
    this.#now = o.now;
  }

  /** What a node about to join at `location` should pull first (see modelsForJoiningNode). */
  modelsForJoiningNode(options: {
    location: LatLng;
    hardware: Pick<Hardware, 'memoryMb' | 'executionProviders'>;
    catalogue: readonly ModelManifest[];
  }): JoiningModel[] {
    // A joining node pulls no canary (its share is chosen among holders) and no withdrawn version.
    const held = new Set(
      this.#versionPlacements
        .filter((v) => v.stage !== 'promoted')
        .map((v) => `${v.model}\u0000${v.version}`),
    );
    // Demand as of the plan (at most PLAN_TTL_MS old, like its shortfalls), only the hexes within reach:
    // the question is public, and the whole window's rows re-summed per question cost O(history).
    const planned = this.#planned();
    planned.near ??= new DemandNear(planned.demand);
    return modelsForJoiningNode({
      ...options,
      catalogue: options.catalogue.filter((m) => !held.has(`${m.name}\u0000${m.version}`)),
      shortfalls: planned.plan.shortfalls,
      demand: planned.near.near(options.location, joiningReachKm()),
    });
  }

  /** The current model plan with its reasons and shortfalls (recomputed at most every PLAN_TTL_MS). */
  plan(): Plan {
    return this.#planned().plan;
  }

  #planned(): Planned {
    const nowMs = this.#now();
    if (this.#plan && nowMs - this.#plan.atMs < PLAN_TTL_MS) return this.#plan;
    const usable = (node: NodeRecord) => this.#registry.statusOf(node) === 'healthy';
    const demand = this.#demand.totals();
    const plan = planModelPlacement({
      demand,
      windowMs: DEMAND_WINDOW_MS,
      nodes: [...this.#registry.values()].filter(usable),
      nodesNear: (at: LatLng, maxDistanceKm: number) =>
        this.#index
          .nearest({ ...at, k: PLANNER_NEAR_LIMIT, maxDistanceKm, filter: (p) => usable(p.node) })
          .map(({ id }) => this.#index.get(id)!.node),
    });
    applyVersionPlacements({
      desired: plan.desired,
      nodes: [...this.#registry.values()].filter(usable),
      specs: this.#versionPlacements,
    });
    this.#plan = { plan, atMs: nowMs, demand };
    return this.#plan;
  }

  /**
   * Rollouts' model versions (the gateway's RolloutManager): canaries on a bounded share of the
   * model's holders, promoted versions on all of them, withdrawn ones on none. Re-plans at once.
   */
  setVersionPlacements(specs: readonly VersionPlacement[]): void {
    this.#versionPlacements = [...specs];
    this.#plan = undefined;
  }
}
