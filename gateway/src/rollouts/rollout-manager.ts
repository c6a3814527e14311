import type { VersionPlacement } from '@hexedge/placement';
import { bytesToHex, HexEdgeError, type InferResponse } from '@hexedge/protocol';
import {
  catalogueVersions,
  contentIdOf,
  requireCatalogued,
  toleranceBetween,
  type CatalogueReader,
} from './catalogue-versions.ts';
import { judgeRollout, type Verdict } from './judge.ts';
import {
  MAX_ROLLOUT_HISTORY,
  newRolloutSchema,
  parseSpec,
  versionPolicySchema,
  type Rollout,
  type RolloutEvent,
  type VersionPolicy,
} from './rollout-spec.ts';
import type { RolloutStore } from './rollout-store.ts';
import { newLiveRollout, routeThroughRollout, type LiveRollout } from './rollout-traffic.ts';
import type { VersionRouter } from './version-router.ts';
import type { VersionStats } from './version-window.ts';

/** Running rollouts at once (all models): each keeps windows and may mirror traffic. */
export const MAX_RUNNING_ROLLOUTS = 64;
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
        tolerance:
          rollout.thresholds.tolerance ??
          toleranceBetween(this.#o.catalogue, rollout.model, [rollout.baseline, rollout.candidate]),
        onCandidateAnswered: () => this.#candidateAnswered(rollout.id),
        log: this.#log,
      });
    }
    return this.#byPolicy(request.model, place);
  };

  #byPolicy(model: string, place: Parameters<VersionRouter['route']>[0]['place']): Promise<InferResponse> {
    const policy = this.#policies.get(model);
    if (!policy) return place();
    if (policy.mode === 'specific') return place({ version: policy.version! });
    const withdrawn = new Set(policy.withdrawn);
    if (policy.mode === 'latest') {
      const latest = catalogueVersions(this.#o.catalogue, model)
        .filter((v) => !withdrawn.has(v))
        .at(-1);
      if (latest !== undefined) return place({ version: latest });
    }
    return withdrawn.size ? place({ skip: (c) => withdrawn.has(c.version) }) : place();
  }

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
    const versions = requireCatalogued({
      catalogue: this.#o.catalogue,
      model: spec.model,
      version: spec.candidate,
      field: 'candidate',
    });
    const existing = this.#running.get(spec.model);
    if (existing)
      throw new HexEdgeError(
        'CONFLICT',
        `model '${spec.model}' already has a running rollout (${existing.rollout.id}: ${existing.rollout.baseline} → ${existing.rollout.candidate}); promote or abort it first`,
      );
    if (this.#running.size >= MAX_RUNNING_ROLLOUTS)
      throw new HexEdgeError(
        'CONFLICT',
        `${this.#running.size} rollouts are running (at most ${MAX_RUNNING_ROLLOUTS}); finish one first`,
      );
    let baseline = spec.baseline;
    if (baseline !== undefined)
      requireCatalogued({
        catalogue: this.#o.catalogue,
        model: spec.model,
        version: baseline,
        field: 'baseline',
      });
    else baseline = await this.#defaultBaseline(spec.model, spec.candidate, versions);
    if (baseline === spec.candidate)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `baseline and candidate are both '${baseline}': a rollout moves from one version to another`,
        { field: 'baseline' },
      );
    const nowMs = this.#now();
    const rollout: Rollout = withEvent(
      {
        ...spec,
        id: `ro-${bytesToHex(crypto.getRandomValues(new Uint8Array(6)))}`,
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
    const policy = this.#policies.get(spec.model);
    const nextPolicy = policy?.withdrawn.includes(spec.candidate)
      ? { ...policy, withdrawn: policy.withdrawn.filter((v) => v !== spec.candidate), updatedAtMs: nowMs }
      : undefined;
    this.#o.store.save({ rollout, ...(nextPolicy ? { policy: nextPolicy } : {}) });
    if (nextPolicy) this.#policies.set(spec.model, nextPolicy);
    this.#rollouts.set(rollout.id, rollout);
    this.#running.set(rollout.model, newLiveRollout(rollout));
    this.#publishPlacements();
    this.#log(`rollout ${rollout.id} started: ${rollout.model} ${baseline} → ${rollout.candidate}`);
    return rollout;
  }

  /** The specific version the policy pins, else the version most nodes serve now (ties: the newest). */
  async #defaultBaseline(model: string, candidate: string, versions: string[]): Promise<string> {
    const policy = this.#policies.get(model);
    if (policy?.mode === 'specific') return policy.version!;
    const withdrawn = new Set(policy?.withdrawn ?? []);
    let best: { version: string; holders: number } | undefined;
    for (const version of versions) {
      if (version === candidate || withdrawn.has(version)) continue;
      const holders = this.#o.holders ? await this.#o.holders(model, version) : 1;
      if (holders > 0 && holders >= (best?.holders ?? 0)) best = { version, holders };
    }
    if (best) return best.version;
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `baseline: no version of '${model}' other than '${candidate}' is served now (catalogue: ${versions.join(', ')}); name the baseline`,
      { field: 'baseline' },
    );
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
    const nowMs = this.#now();
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
    const old = this.#policies.get(rollout.model);
    const withdrawn = new Set(old?.withdrawn ?? []);
    if (promoted) withdrawn.delete(rollout.candidate);
    else withdrawn.add(rollout.candidate);
    const policy: VersionPolicy = {
      model: rollout.model,
      mode: 'specific',
      version: promoted ? rollout.candidate : rollout.baseline,
      withdrawn: [...withdrawn].sort(),
      updatedAtMs: nowMs,
    };
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
      const verdict = judgeRollout({ rollout: live.rollout, ...this.#statsOf(live, nowMs), nowMs });
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

  #statsOf(live: LiveRollout, nowMs: number) {
    const windowMs = live.rollout.thresholds.windowMs;
    return {
      candidate: live.windows.candidate.stats({ nowMs, windowMs }),
      baseline: live.windows.baseline.stats({ nowMs, windowMs }),
    };
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
    const first = rollout.candidateFirstAnsweredAtMs;
    const view: RolloutView = {
      ...rollout,
      ...(first !== undefined && rollout.endedAtMs !== undefined
        ? { timeToDecisionMs: rollout.endedAtMs - first }
        : {}),
    };
    const live = this.#running.get(rollout.model);
    if (live?.rollout.id === id) {
      const { counters } = live;
      const nowMs = this.#now();
      const stats = this.#statsOf(live, nowMs);
      view.live = {
        ...stats,
        mirrorsInFlight: live.mirrorsInFlight,
        mirrorsShed: counters.mirrorsShed,
        fallbacks: counters.fallbacks,
        unavailable: counters.unavailable,
        errorCodes: errorCodesByRole(counters.errorCodes),
        tolerance:
          rollout.thresholds.tolerance ??
          toleranceBetween(this.#o.catalogue, rollout.model, [rollout.baseline, rollout.candidate]),
        // Until the timer's first judgement, what the judge says of the window now (nothing acted on).
        verdict: this.#verdicts.get(id) ?? judgeRollout({ rollout: live.rollout, ...stats, nowMs }),
      };
    }
    return view;
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
    const out: VersionPlacement[] = [];
    const add = (r: Rollout, stage: VersionPlacement['stage']) => {
      const contentId = contentIdOf(this.#o.catalogue, r.model, r.candidate);
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
    const newestFirst = [...this.#rollouts.values()].sort((a, b) => b.createdAtMs - a.createdAtMs);
    const seen = new Set<string>();
    for (const r of newestFirst) {
      const key = `${r.model}\u0000${r.candidate}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const policy = this.#policies.get(r.model);
      if (r.state === 'running') add(r, 'canary');
      else if (r.state === 'promoted' && policy?.mode === 'specific' && policy.version === r.candidate)
        add(r, 'promoted');
      else if (r.state === 'rolled-back' && policy?.withdrawn.includes(r.candidate)) add(r, 'withdrawn');
    }
    this.#o.onPlacements(out);
  }
}

function errorCodesByRole(codes: Map<string, number>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = { candidate: {}, baseline: {} };
  for (const [key, n] of codes) {
    const [role, code] = key.split(' ') as [string, string];
    out[role]![code] = n;
  }
  return out;
}

function withEvent(rollout: Rollout, event: RolloutEvent): Rollout {
  return { ...rollout, history: [...rollout.history, event].slice(-MAX_ROLLOUT_HISTORY) };
}
