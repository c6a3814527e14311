/**
 * The discrete-event simulation: real `Placement` (registry, index, scoring, failover lists, Peak-EWMA
 * feedback, trust, planner), the gateway's failover walk and the oracle's trust code on a simulated
 * clock. Events: sampled requests, the walk's timers (attempt answers, attempt timeouts, hedges,
 * deadlines), node failures and recoveries, churn, load heartbeats, latency proofs, the oracle's score
 * ticks, planner rounds, model loads and eviction sweeps.
 */
import { LatencyTracker } from '@hexedge/gateway';
import { coldLoadMs, Placement, seededRandom } from '@hexedge/placement';
import { Arrivals } from './arrivals.ts';
import { citySampler } from './places.ts';
import { EventQueue } from './event-queue.ts';
import { Heartbeats } from './heartbeats.ts';
import { backgroundUtilisation, expectedLatencyMs } from './load.ts';
import { DiscardingNodeStore } from './sim-store.ts';
import { SimMetrics } from './metrics.ts';
import { createNode, DEFAULT_NODE_MIX, modelEntries, serviceMsOf, signedRegistration, type NodeMix, type SimNode } from './nodes.ts';
import { CHALLENGERS_PER_NODE, OracleSim, type SimOracle } from './oracle-sim.ts';
import { AdversaryWorld, type AdversaryOptions } from './adversary/adversary-world.ts';
import { PerfectOracle } from './perfect.ts';
import { childSeed, createRng, exponential, type Rng } from './random.ts';
import type { LatLng } from '@hexedge/protocol';
import { handleRequest, type RequestContext } from './requests.ts';
import { settle, SimClock, type TimerEvent } from './sim-clock.ts';
import { MODELS, type ModelSpec } from './world.ts';

export interface SimulationOptions {
  nodes: number;
  hours: number;
  seed: number;
  /** Requests simulated end to end over the run (the sample); each stands for worldRate / sampleRate real ones. */
  sampledRequests: number;
  /** Real requests per node per second, averaged over the day: sets background load and spot-check intensity. */
  worldRequestsPerNodePerS?: number;
  heartbeatIntervalMs?: number;
  /** Share of nodes down at any time (failures arrive at random; mean outage meanDownMs). */
  failureShare?: number;
  meanDownMs?: number;
  /** Share of failures that leave the host silent (no TCP reset): an attempt waits until the walk's attempt timeout moves on. */
  blackholeShare?: number;
  /** Share of nodes leaving for good per day (an equal number of new nodes join). */
  churnPerDay?: number;
  mix?: NodeMix;
  /**
   * Adversary mode (issue 16): this share of the `nodes` identities are sybils running the attacks,
   * and the oracle runs on its own code (adversary/). `{ share: 0 }` is the same run without them.
   */
  adversaries?: AdversaryOptions;
  onProgress?: (o: { simulatedMs: number; totalMs: number; requests: number }) => void;
}

export interface SimulationResult {
  options: Required<Omit<SimulationOptions, 'onProgress' | 'adversaries'>> & Pick<SimulationOptions, 'adversaries'>;
  /** Identities that are not sybils (all of them without adversaries): the world's demand is theirs. */
  honestNodes: number;
  adversary?: AdversaryWorld;
  metrics: SimMetrics;
  nodes: SimNode[];
  work: { chosen: Float64Array; perfect: Float64Array };
  weight: number;
  setupMs: number;
  loopMs: number;
  spotChecks: number;
  frauds: number;
  planRounds: number;
  heartbeats: number;
  registrations: number;
  /** Wall-clock ms spent per event kind (where a run's time goes). */
  kindMs: Record<string, number>;
}

/** Midnight UTC, 21 June 2025: a fixed date, so the run does not depend on when it is started. */
export const SIM_EPOCH_MS = Date.UTC(2025, 5, 21);
const HOUR_MS = 3_600_000;
/** Background load follows the diurnal curve: re-read every 15 min (heartbeats in between repeat it, and are elided). */
const LOAD_REFRESH_MS = 15 * 60_000;
const PLAN_INTERVAL_MS = 60 * 60_000;
const EVICT_INTERVAL_MS = 60_000;
/** The oracle's challengers answer within a minute of a node's (re)registration. */
const PROOF_DELAY_MS = 60_000;

type Ev =
  | { atMs: number; kind: 'request' | 'score' | 'load' | 'plan' | 'evict' | 'leave' | 'join' }
  | { atMs: number; kind: 'fail' | 'recover' | 'prove'; node: SimNode }
  | { atMs: number; kind: 'ready'; node: SimNode; model: string }
  | { atMs: number; kind: 'hook'; label: string; run: () => void | Promise<void> }
  | TimerEvent;

export async function simulate(input: SimulationOptions): Promise<SimulationResult> {
  const options = {
    worldRequestsPerNodePerS: 10,
    heartbeatIntervalMs: 10_000,
    failureShare: 0.05,
    // Home hotspots: a power or network outage lasts hours more often than minutes.
    meanDownMs: 2 * HOUR_MS,
    blackholeShare: 0.5,
    churnPerDay: 0.02,
    mix: DEFAULT_NODE_MIX,
    ...input,
  };
  const setupStart = performance.now();
  const totalMs = options.hours * HOUR_MS;
  const endMs = SIM_EPOCH_MS + totalMs;
  let nowMs = SIM_EPOCH_MS;
  const rand = createRng(childSeed(options.seed, 'nodes'));
  const lifeRand = createRng(childSeed(options.seed, 'life'));
  const reqRand = createRng(childSeed(options.seed, 'requests'));
  const nodeSample = citySampler(childSeed(options.seed, 'node-places'));
  const requestSample = citySampler(childSeed(options.seed, 'request-places'));
  const placement = new Placement({ heartbeatIntervalMs: options.heartbeatIntervalMs, now: () => nowMs, store: new DiscardingNodeStore(), random: seededRandom(childSeed(options.seed, 'placement')) });
  const sybilCount = options.adversaries ? Math.round(options.nodes * options.adversaries.share) : 0;
  const honestNodes = options.nodes - sybilCount;
  const perfect = new PerfectOracle();
  const queue = new EventQueue<Ev>();
  const nodes: SimNode[] = [];
  const nodesById = new Map<string, SimNode>();
  const capacity = Math.ceil(options.nodes * (1 + (options.churnPerDay * options.hours) / 24) * 1.2) + 16;
  const adversary = options.adversaries
    ? new AdversaryWorld({ options: options.adversaries, placement, nodes, nodesById, rand: createRng(childSeed(options.seed, 'adversary')), sample: citySampler(childSeed(options.seed, 'sybil-moves')), worldRequestsPerNodePerS: options.worldRequestsPerNodePerS, honestNodes, hours: options.hours })
    : undefined;
  const baseOracle = adversary ? undefined : new OracleSim({ placement, rand: createRng(childSeed(options.seed, 'oracle')), dishonestShare: options.mix.dishonestShare });
  const oracle: SimOracle = adversary ? adversary.oracle : baseOracle!;
  const schedule = (atMs: number, label: string, run: () => void | Promise<void>) => queue.push({ atMs, kind: 'hook', label, run });
  const metrics = new SimMetrics();
  const work = { chosen: new Float64Array(capacity), perfect: new Float64Array(capacity) };
  const meanUpMs = (options.meanDownMs * (1 - options.failureShare)) / options.failureShare;

  const serviceMs = (node: SimNode, m: ModelSpec) => serviceMsOf(node, m);
  const utilisation = (node: SimNode) => backgroundUtilisation(node, { nowMs, worldRequestsPerNodePerS: options.worldRequestsPerNodePerS });
  const latencyOf = (node: SimNode, model: ModelSpec) => expectedLatencyMs(node, { model, utilisation: utilisation(node) });
  const heartbeats = new Heartbeats({ placement, intervalMs: options.heartbeatIntervalMs, now: () => nowMs, farFutureMs: endMs + 24 * HOUR_MS, utilisation, serviceMs });

  const scheduleFailure = (node: SimNode, first: boolean) => {
    // At the start 5 % are already failing within the first minutes, so the share down is steady from the outset.
    const upMs = first && lifeRand() < options.failureShare ? lifeRand() * 10 * 60_000 : exponential(lifeRand, meanUpMs);
    node.nextFailureAtMs = nowMs + upMs;
    if (node.nextFailureAtMs < endMs) queue.push({ atMs: node.nextFailureAtMs, kind: 'fail', node });
  };
  let registrations = 0;
  const register = async (node: SimNode, first: boolean) => {
    node.state = 'up';
    scheduleFailure(node, first);
    await placement.registry.register(signedRegistration(node, { issuedAtMs: Math.floor(nowMs), models: modelEntries(node, () => undefined) }));
    registrations++;
    node.registeredAtMs = nowMs;
    heartbeats.send(node);
    perfect.update(node, { serviceMs: (m) => serviceMs(node, m) });
    const proveAtMs = nowMs + PROOF_DELAY_MS + lifeRand() * PROOF_DELAY_MS;
    queue.push({ atMs: proveAtMs, kind: 'prove', node });
    if (adversary) {
      adversary.expectRound(node, proveAtMs);
      await adversary.onRegistered(node, { atSetup: first, nowMs });
    }
  };
  const addNode = (from: { sample: () => LatLng; rand: Rng; mix: NodeMix } = { sample: nodeSample, rand, mix: options.mix }) => {
    const node = createNode({ index: nodes.length, ...from, heartbeatIntervalMs: options.heartbeatIntervalMs });
    nodes.push(node);
    nodesById.set(node.id, node);
    return node;
  };

  for (let i = 0; i < honestNodes; i++) addNode();
  if (adversary) {
    // The sybils come from their own streams, so the honest nodes are the same with and without them.
    const from = { sample: citySampler(childSeed(options.seed, 'sybil-places')), rand: createRng(childSeed(options.seed, 'sybils')), mix: { ...options.mix, dishonestShare: 0, locationLiarShare: 0 } };
    adversary.makeSybils(Array.from({ length: sybilCount }, () => addNode(from)));
    await adversary.init();
  }
  // One at a time: registrations verified in parallel would commit in completion order, and the run would depend on it.
  for (const node of nodes) await register(node, true);

  const sampledPerMs = options.sampledRequests / totalMs;
  const weight = (options.worldRequestsPerNodePerS * honestNodes) / (sampledPerMs * 1000);
  const clock = new SimClock({ now: () => nowMs, schedule: (timer) => queue.push(timer) });
  const ctx: RequestContext = { placement, perfect, oracle, metrics, clock, rand: reqRand, latency: new LatencyTracker(), nodesById, latencyOf, serviceMs, log: () => {}, weight, work };
  const arrivals = new Arrivals({ rand: reqRand, sample: requestSample, sampledPerMs, epochMs: SIM_EPOCH_MS });
  // Requests span simulated time; a walk that fails for any reason but a gateway error stops the run.
  let inFlight = 0;
  let crash: { error: unknown } | undefined;
  const start = (request: Promise<void>) => {
    inFlight++;
    request.then(
      () => void inFlight--,
      (error: unknown) => {
        inFlight--;
        crash ??= { error };
      },
    );
  };
  const churnPerMs = (honestNodes * options.churnPerDay) / (24 * HOUR_MS);
  queue.push({ atMs: nowMs + arrivals.nextGapMs(), kind: 'request' });
  for (const kind of ['score', 'load', 'evict'] as const) queue.push({ atMs: nowMs + 1, kind });
  queue.push({ atMs: nowMs + PLAN_INTERVAL_MS / 2, kind: 'plan' });
  if (churnPerMs > 0) {
    queue.push({ atMs: nowMs + exponential(lifeRand, 1 / churnPerMs), kind: 'leave' });
    queue.push({ atMs: nowMs + exponential(lifeRand, 1 / churnPerMs), kind: 'join' });
  }
  if (adversary) {
    // Self-paid requests go through the same placement and walk; their figures stay out of the organic ones.
    const washCtx: RequestContext = { ...ctx, metrics: new SimMetrics(), work: { chosen: new Float64Array(capacity), perfect: new Float64Array(capacity) } };
    adversary.start({ startMs: nowMs, endMs, epochMs: adversary.oracle.config.epochMs, weight, schedule, request: (r) => start(handleRequest(washCtx, r)) });
  }
  const setupMs = performance.now() - setupStart;

  const loopStart = performance.now();
  let planRounds = 0;
  let nextProgressMs = nowMs;
  const kindMs: Record<string, number> = {};
  for (let ev = queue.pop(); ev; ev = queue.pop()) {
    // Past the end, only the walks still running go on (their timers), so every request ends.
    if (ev.atMs >= endMs) {
      if (inFlight === 0) break;
      if (ev.kind !== 'timer') continue;
    }
    if (crash) throw crash.error;
    nowMs = ev.atMs;
    const evStart = performance.now();
    if (nowMs >= nextProgressMs && nowMs < endMs) {
      options.onProgress?.({ simulatedMs: nowMs - SIM_EPOCH_MS, totalMs, requests: metrics.requests });
      nextProgressMs += 10 * 60_000;
    }
    switch (ev.kind) {
      case 'request': {
        queue.push({ atMs: nowMs + arrivals.nextGapMs(), kind: 'request' });
        const request = arrivals.draw(nowMs);
        if (!request) break;
        start(handleRequest(ctx, request));
        await settle();
        break;
      }
      case 'timer':
        if (ev.cancelled) break;
        ev.fire();
        // The reactions (the walk moving on, the request's end) run at this instant, before the clock moves.
        await settle();
        break;
      case 'fail':
        if (ev.node.state !== 'up' || ev.node.nextFailureAtMs !== nowMs) break;
        ev.node.state = lifeRand() < options.blackholeShare ? 'blackholed' : 'crashed';
        queue.push({ atMs: nowMs + exponential(lifeRand, options.meanDownMs), kind: 'recover', node: ev.node });
        break;
      case 'recover':
        if (ev.node.state === 'crashed' || ev.node.state === 'blackholed') await register(ev.node, false);
        break;
      case 'hook':
        await ev.run();
        await settle();
        break;
      case 'prove': {
        if (adversary) {
          adversary.locationRound(ev.node, { nowMs, schedule, scheduled: ev.atMs });
          break;
        }
        if (ev.node.state !== 'up') break;
        const minTrust = oracle.config.minCheckerTrust;
        const challengers = placement
          .nearest({ location: ev.node.claimedLocation, k: CHALLENGERS_PER_NODE + 1, filter: (r) => r.id !== ev.node.id && placement.getTrust(r.id).score >= minTrust })
          .slice(0, CHALLENGERS_PER_NODE)
          .map((c) => nodesById.get(c.node.id)!);
        baseOracle!.proveLocation(ev.node, { challengers, nowMs });
        break;
      }
      case 'score':
        oracle.score(nowMs);
        adversary?.afterScore();
        queue.push({ atMs: nowMs + oracle.config.scoreIntervalMs, kind: 'score' });
        break;
      case 'load':
        for (const node of nodes) if (node.state === 'up') heartbeats.sendIfChanged(node);
        queue.push({ atMs: nowMs + LOAD_REFRESH_MS, kind: 'load' });
        break;
      case 'evict':
        placement.evictSilent();
        queue.push({ atMs: nowMs + EVICT_INTERVAL_MS, kind: 'evict' });
        break;
      case 'plan': {
        planRounds++;
        const plan = placement.plan();
        const touched = new Set<string>();
        for (const a of plan.assignments) {
          const node = nodesById.get(a.nodeId);
          if (!node || node.state !== 'up' || node.models.has(a.model)) continue;
          node.models.set(a.model, false);
          touched.add(node.id);
          const spec = MODELS.find((m) => m.name === a.model)!;
          queue.push({ atMs: nowMs + coldLoadMs({ ...spec, ready: false }), kind: 'ready', node, model: a.model });
        }
        for (const id of touched) {
          const node = nodesById.get(id)!;
          const desired = new Set(plan.desired.get(id)?.map((d) => d.name));
          for (const name of [...node.models.keys()]) if (!desired.has(name)) node.models.delete(name);
          heartbeats.send(node);
          perfect.update(node, { serviceMs: (m) => serviceMs(node, m) });
        }
        queue.push({ atMs: nowMs + PLAN_INTERVAL_MS, kind: 'plan' });
        break;
      }
      case 'ready':
        if (ev.node.state !== 'up' || ev.node.models.get(ev.model) !== false) break;
        ev.node.models.set(ev.model, true);
        heartbeats.send(ev.node);
        perfect.update(ev.node, { serviceMs: (m) => serviceMs(ev.node, m) });
        break;
      case 'leave': {
        queue.push({ atMs: nowMs + exponential(lifeRand, 1 / churnPerMs), kind: 'leave' });
        const node = nodes[Math.floor(lifeRand() * nodes.length)]!;
        if (node.state === 'left') break;
        if (node.state === 'up') heartbeats.send(node, { draining: true });
        node.state = 'left';
        perfect.update(node, { serviceMs: (m) => serviceMs(node, m) });
        break;
      }
      case 'join':
        queue.push({ atMs: nowMs + exponential(lifeRand, 1 / churnPerMs), kind: 'join' });
        if (nodes.length < capacity) await register(addNode(), false);
        break;
    }
    const kind = ev.kind === 'hook' ? ev.label : ev.kind;
    kindMs[kind] = (kindMs[kind] ?? 0) + performance.now() - evStart;
  }
  if (crash) throw crash.error;
  adversary?.finish({ epochMs: adversary.oracle.config.epochMs, startMs: SIM_EPOCH_MS, endMs, weight });
  const loopMs = performance.now() - loopStart;
  options.onProgress?.({ simulatedMs: totalMs, totalMs, requests: metrics.requests });
  const { onProgress: _, ...rest } = options;
  return { options: rest, honestNodes, ...(adversary ? { adversary } : {}), metrics, nodes, work, weight, setupMs, loopMs, spotChecks: oracle.spotChecks, frauds: oracle.frauds, planRounds, heartbeats: heartbeats.sent, registrations, kindMs };
}
