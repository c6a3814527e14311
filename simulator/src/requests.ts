/**
 * One sampled request, as the gateway handles it, because it is the gateway's code: placement's
 * failover list, then `walkFailoverList` on the simulated clock (at most MAX_ATTEMPTS nodes within the
 * deadline, the attempt timeout from the gateway's LatencyTracker that moves a silent host's request
 * on, hedging after a node's p95 where the request asks for it, every attempt's outcome reported to
 * placement). The nodes' side of each attempt is attempts.ts. The serving node's answer is
 * spot-checked at the oracle's rate; the request is scored against the perfect-knowledge choice.
 */
import { walkFailoverList, type LatencyTracker } from '@hexedge/gateway';
import { LAST_MILE_RTT_MS, type Placement } from '@hexedge/placement';
import { greatCircleDistanceKm, HexEdgeError, type LatLng } from '@hexedge/protocol';
import { attemptNode, type AttemptWorld, type SimAttempt } from './attempts.ts';
import type { FaultKind, SimMetrics } from './metrics.ts';
import type { SimNode } from './nodes.ts';
import type { SimOracle } from './oracle-sim.ts';
import type { PerfectOracle } from './perfect.ts';
import { expectedRttMs, fibreRttMs, type ModelSpec, type StreamSpec } from './world.ts';

const STRETCH_MIN_KM = 100;

export interface RequestContext extends AttemptWorld {
  placement: Placement;
  perfect: PerfectOracle;
  oracle: SimOracle;
  metrics: SimMetrics;
  /** The simulated gateway's recent answer times per node (hedge delays, attempt timeouts). */
  latency: LatencyTracker;
  nodesById: Map<string, SimNode>;
  log: (message: string) => void;
  /** How many real requests this sampled one stands for. */
  weight: number;
  /** Routed work per node (node-seconds of busy slots), for chosen and perfect routing. */
  work: { chosen: Float64Array; perfect: Float64Array };
}

export interface SampledRequest {
  at: LatLng;
  stream: StreamSpec;
  model: ModelSpec;
  hedge: boolean;
  hour: number;
  /** Adversary mode: a request a wash trader pays for at its own node's place (that node's id). */
  wash?: string;
}

/** Runs one request to its end on the simulated clock (it spans simulated time: await it while the run goes on). */
export async function handleRequest(ctx: RequestContext, r: SampledRequest): Promise<void> {
  const { metrics, clock } = ctx;
  const { model } = r;
  metrics.requests++;
  const startMs = clock.now();
  const best = ctx.perfect.best({ at: r.at, model, latencyOf: (n) => ctx.latencyOf(n, model) });
  const bestOk = best !== undefined && Number.isFinite(best.expectedMs);
  if (bestOk)
    ctx.work.perfect[best.node.index]! +=
      (ctx.weight * ctx.serviceMs(best.node, model)) / 1000 / best.node.slots;

  const candidates = ctx.placement.candidates({ location: r.at, model: model.name });
  if (candidates.length === 0) metrics.noCandidate++;
  if (r.hedge) metrics.hedging.requests++;
  const hit = new Set<FaultKind>();
  let running = 0;
  const hedgeCopies = new Set<SimAttempt>();
  let served: SimAttempt | undefined;
  try {
    const walk = await walkFailoverList({
      candidates,
      model: model.name,
      policy: r.hedge ? { hedge: true } : undefined,
      latency: ctx.latency,
      reportOutcome: (o) => ctx.placement.reportOutcome(o),
      log: ctx.log,
      clock,
      attempt: (c, signal) => {
        const node = ctx.nodesById.get(c.node.id)!;
        const { attempt, answer } = attemptNode(ctx, {
          node,
          model,
          distanceKm: greatCircleDistanceKm(r.at, node.trueLocation),
          signal,
        });
        metrics.attempts++;
        if (attempt.kind !== 'answered') hit.add(attempt.kind);
        // Launched while an earlier attempt still runs: the walk's hedge timer sent it.
        if (running > 0) hedgeCopies.add(attempt);
        running++;
        const done = () => void running--;
        answer.then(done, done);
        return answer;
      },
    });
    served = walk.result;
  } catch (err) {
    if (!(err instanceof HexEdgeError)) throw err;
    metrics.unservedBy.set(err.code, (metrics.unservedBy.get(err.code) ?? 0) + 1);
  }
  metrics.hedging.copies += hedgeCopies.size;

  if (!served) {
    for (const kind of hit) metrics.failover[kind].hit++;
    if (bestOk && best.expectedMs <= r.stream.targetMs) metrics.stream(r.stream.name).reachable++;
    if (bestOk) metrics.unservedWithLiveNode++;
    else metrics.withoutLiveNode++;
    return;
  }
  const realisedMs = clock.now() - startMs;
  const lostMs = served.launchedAtMs - startMs;
  for (const kind of hit) {
    const f = metrics.failover[kind];
    f.hit++;
    f.served++;
    (r.hedge ? f.lostHedgedMs : f.lostMs).push(lostMs);
  }
  if (hedgeCopies.has(served)) metrics.hedging.won++;
  metrics.served++;
  const { node } = served;
  const hour = metrics.hour(r.hour);
  hour.served++;
  if (node.lieRate > 0) hour.dishonest++;
  if (node.claimedLocation !== node.trueLocation) hour.locationLiar++;
  ctx.work.chosen[node.index]! += (ctx.weight * ctx.serviceMs(node, model)) / 1000 / node.slots;
  ctx.oracle.onServed(node, { weight: ctx.weight, nowMs: clock.now(), request: r });

  // Expected, like the perfect choice, plus the time lost before the answering attempt was sent.
  const chosenExpectedMs = expectedRttMs(served.distanceKm) + served.latencyMs + lostMs;
  metrics.chosenMs.push(realisedMs);
  metrics.fibreMs.push(fibreRttMs(served.distanceKm));
  // The last mile is the same for every node: stretch is what the path adds over light in fibre.
  if (served.distanceKm >= STRETCH_MIN_KM)
    metrics.networkStretch.push((served.rttMs - LAST_MILE_RTT_MS) / fibreRttMs(served.distanceKm));
  if (bestOk) {
    metrics.perfectMs.push(best.expectedMs);
    metrics.addedRatio.push(chosenExpectedMs / best.expectedMs - 1);
    const s = metrics.stream(r.stream.name);
    if (best.expectedMs <= r.stream.targetMs) {
      s.reachable++;
      if (realisedMs <= r.stream.targetMs) s.within++;
    }
  }
}
