import type { VersionPlacement } from '@hexedge/placement';
import { bytesToHex, HexEdgeError } from '@hexedge/protocol';
import { requireCatalogued, type CatalogueReader } from './catalogue-versions.ts';
import { judgeRollout, type Verdict } from './judge.ts';
import { defaultBaseline, routeByPolicy } from './policy-versions.ts';
import { admitRollout, requireTwoVersions } from './rollout-admission.ts';
import { createdRecords, decidedRecords, versionPlacementsOf, withEvent } from './rollout-records.ts';
import {
  newRolloutSchema,
  parseSpec,
  versionPolicySchema,
  type Rollout,
  type VersionPolicy,
} from './rollout-spec.ts';
import type { RolloutStore } from './rollout-store.ts';
import { newLiveRollout, routeThroughRollout, type LiveRollout } from './rollout-traffic.ts';
import { statsOf, toleranceOf, viewOf, type RolloutView } from './rollout-view.ts';
import type { VersionRouter } from './version-router.ts';

export type { RolloutView } from './rollout-view.ts';
export { MAX_RUNNING_ROLLOUTS } from './rollout-admission.ts';

/** How often running rollouts are judged: a regression is acted on within this of being measurable. */
export const DEFAULT_EVALUATE_EVERY_MS = 1_000;

export interface RolloutManagerOptions {
  store: RolloutStore;
  catalogue: CatalogueReader;
  /** How many registered nodes announce this version now: the default baseline is the most widely served one. */
  holders?: (model: string, version: string) => number | Promise<number>;
  /** Where the placement planner learns the versions to place (canary share, promoted, withdrawn). */
  onPlacements?: (placements: VersionPlacement[]) => void;
  now?: () => number;
  random?: () => number;
  log?: (message: string) => void;
}

/**
 * Per-model version policies and rollouts: routes each request (the `VersionRouter` hook), judges
 * running rollouts every second (judge.ts) and promotes or rolls back by itself, persists every
 * decision before it takes effect, and tells placement where each version goes.
 */
export class RolloutManager implements VersionRouter {
  readonly #o: RolloutManagerOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #log: (m: string) => void;
  readonly #rollouts = new Map<string, Rollout>();
  /** Running rollouts by model, with their windows. */
  readonly #running = new Map<string, LiveRollout>();
  readonly #verdicts = new Map<string, Verdict>();
  readonly #policies = new Map<string, VersionPolicy>();

  constructor(options: RolloutManagerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#log = options.log ?? (() => {});
    for (const p of options.store.loadPolicies()) this.#policies.set(p.model, p);
    for (const r of options.store.loadRollouts()) {
      this.#rollouts.set(r.id, r);
      if (r.state === 'running') this.#running.set(r.model, newLiveRollout(r));
    }
    this.#publishPlacements();
  }

  /** Judges running rollouts every `everyMs` until the signal aborts. */
  start(signal: AbortSignal, everyMs = DEFAULT_EVALUATE_EVERY_MS): void {
    const timer = setInterval(() => this.evaluate(), everyMs);
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  // --- the inference hook -------------------------------------------------------------------------

  route: VersionRouter['route'] = async ({ request, caller, place, busy }) => {
    // A caller that names a version gets it: pinned clients are not part of anyone's experiment.
    if (request.version !== undefined) return place();
    const live = this.#running.get(request.model);
    if (live) {
      const { rollout } = live;
      return routeThroughRollout({
        live,
        request,
        caller,
        place,
        busy,
        now: this.#now,
        random: this.#random,
        tolerance: toleranceOf(this.#o.catalogue, rollout),
        onCandidateAnswered: () => this.#candidateAnswered(rollout.id),
        log: this.#log,
      });
    }
    return routeByPolicy({
      policy: this.#policies.get(request.model),
      catalogue: this.#o.catalogue,
      model: request.model,
      place,
    });
  };

  #candidateAnswered(id: string): void {
    const rollout = this.#rollouts.get(id);
    if (!rollout || rollout.candidateFirstAnsweredAtMs !== undefined) return;
    const nowMs = this.#now();
    const next = withEvent(
      { ...rollout, candidateFirstAnsweredAtMs: nowMs },
      {
        atMs: nowMs,
        event: 'candidate-serving',
        detail: `${rollout.model}@${rollout.candidate} answered for the first time`,
      },
    );
    try {
      this.#o.store.save({ rollout: next });
    } catch (err) {
      this.#log(`rollout ${id}: ${(err as Error).message}`); // a figure, not a decision: kept in memory anyway
    }
    this.#replace(next);
  }

  // --- admin operations ---------------------------------------------------------------------------

  async create(body: unknown): Promise<Rollout> {
    const spec = parseSpec(newRolloutSchema, body, 'rollout');
    const versions = admitRollout({ spec, running: this.#running, catalogue: this.#o.catalogue });
    const baseline =
      spec.baseline ??
      (await defaultBaseline({
        policy: this.#policies.get(spec.model),
        model: spec.model,
        candidate: spec.candidate,
        versions,
        holders: this.#o.holders,
      }));
    requireTwoVersions(baseline, spec.candidate);
    const { rollout, nextPolicy } = createdRecords({
      spec,
      id: `ro-${bytesToHex(crypto.getRandomValues(new Uint8Array(6)))}`,
      baseline,
      old: this.#policies.get(spec.model),
      nowMs: this.#now(),
    });
    this.#o.store.save({ rollout, ...(nextPolicy ? { policy: nextPolicy } : {}) });
    if (nextPolicy) this.#policies.set(spec.model, nextPolicy);
    this.#rollouts.set(rollout.id, rollout);
    this.#running.set(rollout.model, newLiveRollout(rollout));
    this.#publishPlacements();
    this.#log(`rollout ${rollout.id} started: ${rollout.model} ${baseline} → ${rollout.candidate}`);
    return rollout;
  }

  promote(id: string, reason = 'promoted through the API'): Rollout {
    return this.#decide({ id, state: 'promoted', decidedBy: 'admin', reason });
  }

  abort(id: string, reason = 'aborted through the API'): Rollout {
    return this.#decide({ id, state: 'rolled-back', decidedBy: 'admin', reason });
  }

  #decide(o: {
    id: string;
    state: 'promoted' | 'rolled-back';
    decidedBy: 'auto' | 'admin';
    reason: string;
  }): Rollout {
    const rollout = this.get(o.id);
    if (rollout.state !== 'running')
      throw new HexEdgeError(
        'CONFLICT',
        `rollout ${o.id} is already ${rollout.state} (${rollout.reason ?? ''}); start a new rollout instead`,
      );
    const { next, policy } = decidedRecords({
      rollout,
      old: this.#policies.get(rollout.model),
      state: o.state,
      decidedBy: o.decidedBy,
      reason: o.reason,
      nowMs: this.#now(),
    });
    this.#o.store.save({ rollout: next, policy });
    this.#policies.set(rollout.model, policy);
    this.#replace(next);
    this.#running.delete(rollout.model);
    this.#verdicts.delete(rollout.id);
    this.#publishPlacements();
    this.#log(`rollout ${rollout.id} ${o.state} (${o.decidedBy}): ${o.reason}`);
    return next;
  }

  /** Judges every running rollout now and acts on the verdicts (the timer calls it; tests may too). */
  evaluate(): void {
    const nowMs = this.#now();
    for (const live of [...this.#running.values()]) {
      const verdict = judgeRollout({ rollout: live.rollout, ...statsOf(live, nowMs), nowMs });
      this.#verdicts.set(live.rollout.id, verdict);
      if (verdict.action === 'hold') continue;
      try {
        this.#decide({
          id: live.rollout.id,
          state: verdict.action === 'promote' ? 'promoted' : 'rolled-back',
          decidedBy: 'auto',
          reason: verdict.reason,
        });
      } catch (err) {
        // Storage failed: nothing changed; the next tick tries again.
        this.#log(`rollout ${live.rollout.id}: ${verdict.action} not applied: ${(err as Error).message}`);
      }
    }
  }

  // --- version policies ---------------------------------------------------------------------------

  setPolicy(model: string, body: unknown): VersionPolicy {
    const input = parseSpec(versionPolicySchema, body, 'version policy');
    requireCatalogued({
      catalogue: this.#o.catalogue,
      model,
      ...(input.version !== undefined ? { version: input.version } : {}),
      field: 'version',
    });
    const running = this.#running.get(model);
    if (running)
      throw new HexEdgeError(
        'CONFLICT',
        `model '${model}' has a running rollout (${running.rollout.id}); its versions are the rollout's until it is promoted or aborted`,
      );
    const policy: VersionPolicy = {
      model,
      ...input,
      withdrawn: this.#policies.get(model)?.withdrawn ?? [],
      updatedAtMs: this.#now(),
    };
    this.#o.store.save({ policy });
    this.#policies.set(model, policy);
    this.#publishPlacements();
    return policy;
  }

  getPolicy(model: string): VersionPolicy {
    requireCatalogued({ catalogue: this.#o.catalogue, model, field: 'model' });
    return this.#policies.get(model) ?? { model, mode: 'all', withdrawn: [], updatedAtMs: 0 };
  }

  // --- reading ------------------------------------------------------------------------------------

  get(id: string): Rollout {
    const rollout = this.#rollouts.get(id);
    if (!rollout) throw new HexEdgeError('NOT_FOUND', `no rollout ${JSON.stringify(id.slice(0, 80))}`);
    return rollout;
  }

  view(id: string): RolloutView {
    const rollout = this.get(id);
    return viewOf({
      rollout,
      live: this.#running.get(rollout.model),
      catalogue: this.#o.catalogue,
      verdictOf: (rolloutId) => this.#verdicts.get(rolloutId),
      now: this.#now,
    });
  }

  /** Newest first; running ones carry their live figures. */
  list(filter: { model?: string; limit?: number } = {}): RolloutView[] {
    return [...this.#rollouts.values()]
      .filter((r) => filter.model === undefined || r.model === filter.model)
      .sort((a, b) => b.createdAtMs - a.createdAtMs)
      .slice(0, filter.limit ?? 100)
      .map((r) => this.view(r.id));
  }

  policies(): VersionPolicy[] {
    return [...this.#policies.values()];
  }

  /** Running rollouts' live state (metrics read it at scrape time). */
  running(): readonly LiveRollout[] {
    return [...this.#running.values()];
  }

  /** Decisions so far by model and kind (metrics). */
  decisions(): Rollout[] {
    return [...this.#rollouts.values()].filter((r) => r.state !== 'running');
  }

  #replace(rollout: Rollout): void {
    this.#rollouts.set(rollout.id, rollout);
    const live = this.#running.get(rollout.model);
    if (live?.rollout.id === rollout.id) live.rollout = rollout;
  }

  /** Where each rolled-out version goes: running → canary share, promoted and still pinned → everywhere, withdrawn → nowhere. */
  #publishPlacements(): void {
    if (!this.#o.onPlacements) return;
    this.#o.onPlacements(
      versionPlacementsOf({
        rollouts: this.#rollouts.values(),
        policies: this.#policies,
        catalogue: this.#o.catalogue,
      }),
    );
  }
}
