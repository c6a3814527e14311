/**
 * Adversary mode's part of a run: the sybils (roles.ts), the oracle on its own code
 * (adversary-oracle.ts), and the events that drive them on the run's clock — evidence ticks from each
 * node's real traffic, location windows, score ticks (the run's own), evict reports, sticky moves,
 * wash traders' self-paid requests and epoch closes. simulation.ts calls the hooks below; everything
 * else the run does (placement, the gateway's walk, heartbeats, failures, churn) is as without
 * adversaries.
 */
import {
  HexEdgeError,
  checkForward,
  generateNodeKeyPair,
  greatCircleDistanceKm,
  signForward,
  type LatLng,
} from '@hexedge/protocol';
import { parseOracleConfig } from '@hexedge/coverage-oracle';
import type { Placement } from '@hexedge/placement';
import { demandPerS } from '../load.ts';
import { modelEntries, nodeUrlOf, signedRegistration, MIN_LOCATION_LIE_KM, type SimNode } from '../nodes.ts';
import { poisson, type Rng } from '../random.ts';
import type { SampledRequest } from '../requests.ts';
import { MODELS, STREAMS } from '../world.ts';
import { AdversaryMetrics } from './adversary-metrics.ts';
import { AdversaryOracle } from './adversary-oracle.ts';
import { closeEpoch } from './epoch-close.ts';
import { runLocationRound } from './location-rounds.ts';
import { behaviourOf, DEFAULT_SYBIL_MIX, roleCounts, SYBIL_ROLES, type SybilRole } from './roles.ts';
import { SybilReports } from './sybil-reports.ts';

export interface AdversaryOptions {
  /** Share of all identities that are sybils: 0 gives the same run without adversaries. */
  share: number;
  mix?: Readonly<Record<SybilRole, number>>;
  /** Oracle config keys over `parseOracleConfig`'s defaults (e.g. samplingRate). */
  oracleConfig?: Record<string, unknown>;
  /** Each node's location window recurs this often (the service probes every minute). */
  locationRoundMs?: number;
  /** Real checks an hour of known honest-behaving nodes' samples (where sleepers frame); the rest are counted. */
  honestCheckBudgetPerHour?: number;
  /** Grinding attempts run for real (each hashes 42 × 16 draw keys). */
  grindBudget?: number;
  /** A wash trader's self-paid requests, as a multiple of its own demand. */
  washFactor?: number;
}

export const FAST_TICK_MS = 60_000;
export const SLOW_TICK_MS = 10 * 60_000;
const DEFAULT_LOCATION_ROUND_MS = 60 * 60_000;
/** A sticky sybil moves its claim this long after its place is verified, and tries a second move later. */
const STICKY_MOVE_DELAY_MS = 5 * 60_000;
const STICKY_SECOND_MOVE_MS = 10 * 60_000;

export type Schedule = (atMs: number, label: string, run: () => void | Promise<void>) => void;

export class AdversaryWorld {
  readonly options: Required<Omit<AdversaryOptions, 'oracleConfig'>> & Pick<AdversaryOptions, 'oracleConfig'>;
  readonly metrics = new AdversaryMetrics();
  readonly oracle: AdversaryOracle;
  readonly sybils: SimNode[] = [];
  readonly #placement: Placement;
  readonly #nodes: SimNode[];
  readonly #nodesById: Map<string, SimNode>;
  readonly #rand: Rng;
  readonly #sample: () => LatLng;
  readonly #reports: SybilReports;
  readonly #watch = new Set<SimNode>();
  readonly #nextRoundAtMs = new Map<string, number>();
  readonly #moved = new Set<SimNode>();
  readonly #worldRate: number;
  #relayRefusal: string | undefined;

  constructor(o: {
    options: AdversaryOptions;
    placement: Placement;
    nodes: SimNode[];
    nodesById: Map<string, SimNode>;
    rand: Rng;
    sample: () => LatLng;
    worldRequestsPerNodePerS: number;
    honestNodes: number;
    hours: number;
  }) {
    this.options = {
      mix: DEFAULT_SYBIL_MIX,
      locationRoundMs: DEFAULT_LOCATION_ROUND_MS,
      honestCheckBudgetPerHour: Math.max(1000, o.honestNodes / 10),
      grindBudget: 200,
      washFactor: 1,
      ...o.options,
    };
    this.#placement = o.placement;
    this.#nodes = o.nodes;
    this.#nodesById = o.nodesById;
    this.#rand = o.rand;
    this.#sample = o.sample;
    this.#worldRate = o.worldRequestsPerNodePerS;
    // The rate the oracle will run at: its defaults under this run's overrides.
    const { samplingRate } = parseOracleConfig(this.options.oracleConfig ?? {});
    this.oracle = new AdversaryOracle({
      placement: o.placement,
      nodesById: o.nodesById,
      rand: o.rand,
      metrics: this.metrics,
      worldRequestsPerNodePerS: o.worldRequestsPerNodePerS,
      ...(this.options.oracleConfig ? { oracleConfig: this.options.oracleConfig } : {}),
      honestCheckBudgetPerHour: this.options.honestCheckBudgetPerHour,
      expectedHonestChecksPerHour: samplingRate * o.worldRequestsPerNodePerS * o.honestNodes * 3600,
      grindBudget: this.options.grindBudget,
    });
    this.#reports = new SybilReports({ oracle: this.oracle, placement: o.placement, rand: o.rand });
  }

  /** Sybil counts per role for `total` identities in all. */
  sybilCount(total: number): number {
    return Math.round(total * this.options.share);
  }

  /** Turns freshly created nodes into the sybils (their own key stream, places and hardware draws). */
  makeSybils(created: SimNode[]): void {
    const counts = roleCounts(created.length, this.options.mix);
    let i = 0;
    for (const role of SYBIL_ROLES)
      for (let n = 0; n < counts.get(role)!; n++) {
        const node = created[i++]!;
        const b = behaviourOf(role, this.#rand);
        node.role = role;
        node.lieRate = b.lieRate;
        if (b.relay) node.relay = true;
        this.sybils.push(node);
      }
  }

  async init(): Promise<void> {
    await this.oracle.init();
  }

  /** After a node's signed registration: its history if it had one before the run, and what it needs watching. */
  async onRegistered(node: SimNode, o: { atSetup: boolean; nowMs: number }): Promise<void> {
    if (o.atSetup && (node.role === undefined || node.role === 'sleeper'))
      this.oracle.seedHistory(node, {
        nowMs: o.nowMs,
        operatorId: node.role === 'sleeper' ? `attacker-account-${node.index}` : node.id,
      });
    if (!this.oracle.evidenceOf(node.id).known || node.lieRate > 0) this.#watch.add(node);
    if (node.relay && this.#relayRefusal === undefined)
      this.#relayRefusal = await relayRefusal(
        node,
        this.#nodes.find((n) => n.role === undefined)!,
        o.nowMs,
      );
  }

  get relayRefusalReason(): string {
    return this.#relayRefusal ?? '';
  }

  /** A location window is due `atMs` (the run's 'prove' event, or our own repeat): only the latest schedule per node runs. */
  expectRound(node: SimNode, atMs: number): void {
    this.#nextRoundAtMs.set(node.id, atMs);
  }

  locationRound(node: SimNode, o: { nowMs: number; schedule: Schedule; scheduled: number }): void {
    if (this.#nextRoundAtMs.get(node.id) !== o.scheduled || node.state === 'left') return;
    const status = runLocationRound(
      { placement: this.#placement, oracle: this.oracle, nodesById: this.#nodesById, rand: this.#rand },
      node,
      o.nowMs,
    );
    if (node.role === 'sticky' && status === 'verified' && !this.#moved.has(node)) {
      this.#moved.add(node);
      o.schedule(o.nowMs + STICKY_MOVE_DELAY_MS, 'sticky-move', () =>
        this.#move(node, o.nowMs + STICKY_MOVE_DELAY_MS, o.schedule),
      );
      o.schedule(o.nowMs + STICKY_MOVE_DELAY_MS + STICKY_SECOND_MOVE_MS, 'sticky-move', () =>
        this.#move(node, o.nowMs + STICKY_MOVE_DELAY_MS + STICKY_SECOND_MOVE_MS, o.schedule),
      );
    }
    this.#scheduleRound(node, o.nowMs + this.options.locationRoundMs, o.schedule);
  }

  #scheduleRound(node: SimNode, atMs: number, schedule: Schedule): void {
    this.expectRound(node, atMs);
    schedule(atMs, 'location', () => this.locationRound(node, { nowMs: atMs, schedule, scheduled: atMs }));
  }

  /** A sticky sybil claims a city it is not in, signed as any move; the registry may refuse a second within the hour. */
  async #move(node: SimNode, nowMs: number, schedule: Schedule): Promise<void> {
    if (node.state !== 'up') return;
    let to: LatLng;
    do to = this.#sample();
    while (greatCircleDistanceKm(node.trueLocation, to) < MIN_LOCATION_LIE_KM);
    const before = node.claimedLocation;
    node.claimedLocation = to;
    try {
      await this.#placement.registry.register(
        signedRegistration(node, {
          issuedAtMs: Math.floor(nowMs),
          models: modelEntries(node, () => undefined),
        }),
      );
      this.metrics.stickyMoves++;
      this.#scheduleRound(node, nowMs + 60_000 + this.#rand() * 60_000, schedule);
    } catch (err) {
      if (!(err instanceof HexEdgeError)) throw err;
      node.claimedLocation = before;
      this.metrics.stickyMovesRefused++;
    }
  }

  /** After each score: a moved sticky sybil must never be marked verified at a place it is not in. */
  afterScore(): void {
    for (const node of this.#moved) {
      if (node.claimedLocation === node.trueLocation) continue;
      if (!this.#placement.registry.get(node.id)?.locationVerified) continue;
      this.metrics.stickyVerifiedElsewhere++;
      if (!this.metrics.stickyCases.has(node.id)) {
        const v = this.oracle.evidenceOf(node.id).location;
        const d = (v?.details ?? {}) as {
          claim?: LatLng;
          uncertaintyKm?: number;
          consistentChallengers?: string[];
          estimate?: LatLng;
        };
        this.metrics.stickyCases.set(node.id, {
          offByKm: greatCircleDistanceKm(node.trueLocation, node.claimedLocation),
          status: v?.status ?? 'none',
          ...(d.uncertaintyKm !== undefined ? { uncertaintyKm: d.uncertaintyKm } : {}),
          challengers: (d.consistentChallengers ?? []).map((id) => {
            const c = this.#nodesById.get(id);
            return c
              ? {
                  role: c.role ?? 'honest',
                  toTrueKm: greatCircleDistanceKm(c.trueLocation, node.trueLocation),
                  toClaimKm: greatCircleDistanceKm(c.trueLocation, node.claimedLocation),
                }
              : { role: id, toTrueKm: NaN, toClaimKm: NaN };
          }),
        });
      }
    }
  }

  /** Schedules the recurring events of the run from `startMs`. */
  start(o: {
    startMs: number;
    endMs: number;
    epochMs: number;
    weight: number;
    schedule: Schedule;
    request: (r: SampledRequest) => void;
  }): void {
    const { schedule } = o;
    const fast = (atMs: number) =>
      schedule(atMs, 'evidence', async () => {
        for (const node of [...this.#watch]) {
          await this.oracle.evidenceTick(node, { nowMs: atMs, dtMs: FAST_TICK_MS });
          const ev = this.oracle.evidenceOf(node.id);
          if (
            this.metrics.firstConvictedAtMs.has(node.id) ||
            (ev.known && node.lieRate === 0) ||
            node.state === 'left'
          )
            this.#watch.delete(node);
        }
        if (atMs + FAST_TICK_MS < o.endMs) fast(atMs + FAST_TICK_MS);
      });
    const slow = (atMs: number) =>
      schedule(atMs, 'evidence', async () => {
        for (const node of this.#nodes)
          if (!this.#watch.has(node))
            await this.oracle.evidenceTick(node, { nowMs: atMs, dtMs: SLOW_TICK_MS });
        if (atMs + SLOW_TICK_MS < o.endMs) slow(atMs + SLOW_TICK_MS);
      });
    fast(o.startMs + FAST_TICK_MS);
    slow(o.startMs + SLOW_TICK_MS);
    const reporters = this.sybils.filter((s) => s.role === 'evict' || s.role === 'sleeper');
    for (let t = o.startMs + this.options.locationRoundMs / 2; t < o.endMs; t += this.options.locationRoundMs)
      schedule(t, 'evict-reports', () => this.#reports.send(reporters, t));
    for (let epoch = 0, t = o.startMs; t < o.endMs; epoch++, t += o.epochMs) {
      const endMs = t + o.epochMs;
      this.#planWash({
        startMs: t,
        endMs: Math.min(endMs, o.endMs),
        weight: o.weight,
        schedule,
        request: o.request,
      });
      if (endMs < o.endMs) schedule(endMs, 'epoch', () => this.#close(epoch, endMs, o.weight));
    }
  }

  /** The last epoch closes when the run ends (the loop stops before an event at the end instant). */
  finish(o: { epochMs: number; startMs: number; endMs: number; weight: number }): void {
    const epoch = Math.ceil((o.endMs - o.startMs) / o.epochMs) - 1;
    this.#close(epoch, o.endMs, o.weight);
  }

  #close(epoch: number, endMs: number, weight: number): void {
    closeEpoch(this.oracle, { epoch, endMs, weight, nodesById: this.#nodesById });
    this.oracle.newEpochSeed();
  }

  /** A wash trader's operator pays for requests at its node's place: as many real ones as its node's own demand × washFactor. */
  #planWash(o: {
    startMs: number;
    endMs: number;
    weight: number;
    schedule: Schedule;
    request: (r: SampledRequest) => void;
  }): void {
    for (const node of this.sybils) {
      if (node.role !== 'wash') continue;
      const model = MODELS.find((m) => node.models.get(m.name));
      if (!model) continue;
      const midMs = (o.startMs + o.endMs) / 2;
      const real =
        (this.options.washFactor *
          demandPerS(node, { nowMs: midMs, worldRequestsPerNodePerS: this.#worldRate }) *
          (o.endMs - o.startMs)) /
        1000;
      for (let i = poisson(this.#rand, real / o.weight); i > 0; i--) {
        const atMs = o.startMs + this.#rand() * (o.endMs - o.startMs);
        o.schedule(atMs, 'wash', () =>
          o.request({
            at: node.claimedLocation,
            stream: STREAMS[0]!,
            model,
            hedge: false,
            hour: Math.floor((atMs - o.startMs) / 3_600_000),
            wash: node.id,
          }),
        );
      }
    }
  }
}

/**
 * What an honest node answers a relay: the relay got the request signed by the gateway for itself
 * and passes it on, headers and all; the honest node's real `checkForward` refuses it (addressed to
 * another node). The same for every relayed request, so it is checked once per run.
 */
async function relayRefusal(relay: SimNode, honest: SimNode, nowMs: number): Promise<string> {
  const gateway = await generateNodeKeyPair();
  const body = JSON.stringify({
    inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [22, 45, 700] }],
  });
  const target = { route: 'infer' as const, modelName: MODELS[0]!.name, modelVersion: MODELS[0]!.version };
  const headers = await signForward({
    ...target,
    targetNodeId: relay.id,
    keys: gateway,
    body,
    nowMs: Math.floor(nowMs),
  });
  const check = await checkForward({
    ...target,
    targetNodeId: honest.id,
    header: (name) => headers[name],
    body,
    isKnown: (id) => id === gateway.nodeId,
    nowMs: Math.floor(nowMs),
  });
  if (check.ok)
    throw new Error(`an honest node ${nodeUrlOf(honest)} served a request relayed by ${relay.id}`);
  return check.reason;
}
