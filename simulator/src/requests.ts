/**
 * One sampled request, as the gateway handles it: placement's failover list, at most MAX_ATTEMPTS
 * tries within the deadline (a crashed node refuses at once, a blackholed one holds the attempt for
 * the connect timeout, a saturated one answers 503), every attempt reported back to placement, the
 * serving node's answer spot-checked at the oracle's rate. Scored against the perfect-knowledge choice.
 */
import { DEFAULT_DEADLINE_MS, MAX_ATTEMPTS } from '@hexedge/gateway';
import { LAST_MILE_RTT_MS, type Placement } from '@hexedge/placement';
import type { LatLng } from '@hexedge/protocol';
import { greatCircleDistanceKm } from '@hexedge/protocol';
import type { SimMetrics } from './metrics.ts';
import type { SimNode } from './nodes.ts';
import type { OracleSim } from './oracle-sim.ts';
import type { PerfectOracle } from './perfect.ts';
import { logNormal, type Rng } from './random.ts';
import { CONNECT_TIMEOUT_MS, expectedRttMs, fibreRttMs, realisedRttMs, type ModelSpec, type StreamSpec } from './world.ts';

/** Service time spread around a node's mean (σ of the log). */
const SERVICE_SIGMA = 0.25;
const STRETCH_MIN_KM = 100;

export interface RequestContext {
  placement: Placement;
  perfect: PerfectOracle;
  oracle: OracleSim;
  metrics: SimMetrics;
  rand: Rng;
  nodesById: Map<string, SimNode>;
  /** Expected service + queue wait of `node` for `model` now, ms (Infinity when saturated). */
  latencyOf: (node: SimNode, model: ModelSpec) => number;
  serviceMs: (node: SimNode, model: ModelSpec) => number;
  /** How many real requests this sampled one stands for. */
  weight: number;
  /** Routed work per node (node-seconds of busy slots), for chosen and perfect routing. */
  work: { chosen: Float64Array; perfect: Float64Array };
}

export function handleRequest(ctx: RequestContext, r: { at: LatLng; stream: StreamSpec; model: ModelSpec; nowMs: number; hour: number }): void {
  const { metrics, rand } = ctx;
  const { model } = r;
  metrics.requests++;
  const best = ctx.perfect.best({ at: r.at, model, latencyOf: (n) => ctx.latencyOf(n, model) });
  const bestOk = best !== undefined && Number.isFinite(best.expectedMs);
  if (bestOk) ctx.work.perfect[best.node.index]! += (ctx.weight * ctx.serviceMs(best.node, model)) / 1000 / best.node.slots;

  const candidates = ctx.placement.candidates({ location: r.at, model: model.name });
  if (candidates.length === 0) metrics.noCandidate++;
  let elapsedMs = 0;
  let firstFault: keyof SimMetrics['failover'] | undefined;
  let wastedMs = 0;
  let served: { node: SimNode; distanceKm: number; realisedMs: number; networkMs: number } | undefined;
  for (let i = 0; i < candidates.length && i < MAX_ATTEMPTS && elapsedMs < DEFAULT_DEADLINE_MS; i++) {
    const node = ctx.nodesById.get(candidates[i]!.node.id)!;
    const distanceKm = greatCircleDistanceKm(r.at, node.trueLocation);
    const rttMs = realisedRttMs(distanceKm, rand);
    metrics.attempts++;
    let fault: keyof SimMetrics['failover'] | undefined;
    let tookMs: number;
    if (node.state === 'blackholed') {
      fault = 'blackholed';
      tookMs = Math.min(CONNECT_TIMEOUT_MS, DEFAULT_DEADLINE_MS - elapsedMs);
    } else if (node.state !== 'up') {
      fault = 'crashed';
      tookMs = rttMs;
    } else {
      const waitMs = ctx.latencyOf(node, model) - ctx.serviceMs(node, model);
      if (!Number.isFinite(waitMs)) {
        fault = 'overloaded';
        tookMs = rttMs;
      } else tookMs = rttMs + waitMs + logNormal(rand, ctx.serviceMs(node, model), SERVICE_SIGMA);
    }
    if (elapsedMs + tookMs > DEFAULT_DEADLINE_MS) fault ??= 'overloaded';
    ctx.placement.reportOutcome({ nodeId: node.id, model: model.name, latencyMs: Math.min(tookMs, DEFAULT_DEADLINE_MS), ok: fault === undefined });
    elapsedMs += tookMs;
    if (fault) {
      if (i === 0) firstFault = fault;
      wastedMs += tookMs;
      continue;
    }
    served = { node, distanceKm, realisedMs: elapsedMs, networkMs: rttMs };
    break;
  }
  if (firstFault) metrics.failover[firstFault].first++;

  if (!served) {
    if (bestOk && best.expectedMs <= r.stream.targetMs) metrics.stream(r.stream.name).reachable++;
    if (bestOk) metrics.unservedWithLiveNode++;
    else metrics.withoutLiveNode++;
    return;
  }
  metrics.served++;
  if (firstFault) metrics.failover[firstFault].served++;
  const { node } = served;
  const hour = metrics.hour(r.hour);
  hour.served++;
  if (node.lieRate > 0) hour.dishonest++;
  if (node.claimedLocation !== node.trueLocation) hour.locationLiar++;
  ctx.work.chosen[node.index]! += (ctx.weight * ctx.serviceMs(node, model)) / 1000 / node.slots;
  ctx.oracle.onServed(node, { weight: ctx.weight, nowMs: r.nowMs });

  // Expected, like the perfect choice, plus what the failed attempts really cost.
  const chosenExpectedMs = expectedRttMs(served.distanceKm) + ctx.latencyOf(node, model) + wastedMs;
  metrics.chosenMs.push(served.realisedMs);
  metrics.fibreMs.push(fibreRttMs(served.distanceKm));
  // The last mile is the same for every node: stretch is what the path adds over light in fibre.
  if (served.distanceKm >= STRETCH_MIN_KM) metrics.networkStretch.push((served.networkMs - LAST_MILE_RTT_MS) / fibreRttMs(served.distanceKm));
  if (bestOk) {
    metrics.perfectMs.push(best.expectedMs);
    metrics.addedRatio.push(chosenExpectedMs / best.expectedMs - 1);
    const s = metrics.stream(r.stream.name);
    if (best.expectedMs <= r.stream.targetMs) {
      s.reachable++;
      if (served.realisedMs <= r.stream.targetMs) s.within++;
    }
  }
}
