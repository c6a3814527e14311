/**
 * A location window for one node, as the challenge scheduler and the verify stage run it: challengers
 * chosen by the real `selectChallengers` (the oracle itself always, then the verifiers nearest the
 * claim, one per operator and prefix), each report turned into an availability verdict by
 * `availabilityStatusOf` (a node challenger's "not answered" counts when the oracle reached that
 * challenger) and the answered round trips judged by `judgeLocationWindow` (the claim and a
 * `challenger` verdict for each node challenger; the majority contradicted lose standing).
 *
 * Round trips come from the true places (fibre at placement's ROUTE_STRETCH, 1 ms of access, a little
 * jitter); the oracle knows challengers' places by their claims. A sleeper challenger lies: about
 * the attacker's own nodes it vouches (a round trip of 1 ms, as if next to the claim); about others a
 * quiet one (odd index) always says the target did not answer, a loud one (even index) half the time
 * says so, half the time reports a round trip of 1 ms (the target impossibly near it).
 * Seam: one window per round; the real scheduler probes every minute and combines ten minutes.
 */
import {
  availabilityStatusOf,
  judgeLocationWindow,
  selectChallengers,
  type ChallengerCandidate,
  type LatencyObservation,
} from '@hexedge/coverage-oracle';
import { FIBER_KM_PER_MS, ROUTE_STRETCH, type Placement } from '@hexedge/placement';
import { greatCircleDistanceKm, latLngToH3Cell, type LatLng } from '@hexedge/protocol';
import { nodeUrlOf, type SimNode } from '../nodes.ts';
import { exponential, type Rng } from '../random.ts';
import { PROBE_ACCESS_RTT_MS } from '../world.ts';
import { bump } from './adversary-metrics.ts';
import { classOf, type AdversaryOracle } from './adversary-oracle.ts';

/** The oracle's own probe point (its id is not a node's: it signs nothing here). */
export const ORACLE_ID = 'oracle-sim';
export const ORACLE_LOCATION: LatLng = { lat: 50.11, lng: 8.68 };
/** Challengers per target, the oracle included (the service's `challengersPerNode`). */
export const CHALLENGERS_PER_TARGET = 5;
/** Nearest nodes looked at for verifiers among them (selectChallengers then keeps one per operator and prefix). */
const NEAR_LOOKUP = 24;
/** Claims in one cell of this resolution share a lookup of the verifiers near them. */
export const NEAR_CACHE_RES = 5;

export interface LocationRoundDeps {
  placement: Placement;
  oracle: AdversaryOracle;
  nodesById: Map<string, SimNode>;
  rand: Rng;
}

export interface NodeRecordLike {
  id: string;
  location: LatLng;
  url: string;
}

export const isLoudSleeper = (node: SimNode) => node.role === 'sleeper' && node.index % 2 === 0;

/**
 * The verifiers nearest a claim, as the scheduler would look them up. Placement's nearest-with-filter
 * over 100k nodes was most of a run's time, so a lookup is kept for every claim in the same res-5 H3
 * cell (≈ 10 km across: selectChallengers still orders them by distance to each claim) until a node
 * in that cell gains standing (one in a neighbouring cell is missed until then); those that lost
 * standing or health since, and the target itself, are dropped at use, and the cell is looked up
 * afresh when too few are left.
 */
function nearVerifiers(deps: LocationRoundDeps, o: { nodeId: string; claim: LatLng }): NodeRecordLike[] {
  const { placement, oracle } = deps;
  const registry = placement.registry;
  const cell = latLngToH3Cell(o.claim, NEAR_CACHE_RES);
  const usable = (records: NodeRecordLike[]) =>
    records.filter((r) => {
      if (r.id === o.nodeId || !oracle.book.isVerifier(r.id)) return false;
      const rec = registry.get(r.id);
      return rec !== undefined && registry.statusOf(rec) === 'healthy';
    });
  const cached = oracle.nearVerifiers.get(cell);
  if (cached) {
    const still = usable(cached);
    if (still.length >= CHALLENGERS_PER_TARGET) return still;
  }
  const records = placement
    .nearest({ location: o.claim, k: NEAR_LOOKUP + 1, filter: (r) => oracle.book.isVerifier(r.id) })
    .map((c) => ({ id: c.node.id, location: c.node.location, url: c.node.url }));
  oracle.nearVerifiers.set(cell, records);
  return usable(records);
}

/** Runs one window for `node` and applies its verdicts; returns the status its claim got (undefined: too few challengers). */
export function runLocationRound(deps: LocationRoundDeps, node: SimNode, nowMs: number): string | undefined {
  const { placement, oracle, nodesById, rand } = deps;
  const rec = placement.registry.get(node.id);
  if (!rec) return undefined;
  const claim = rec.location;
  const claimedAtMs = rec.locationChangedAtMs ?? rec.registeredAtMs;
  const candidates: ChallengerCandidate[] = nearVerifiers(deps, { nodeId: node.id, claim }).map((r) => ({
    nodeId: r.id,
    location: r.location,
    verifier: true,
    operatorId: oracle.standing.get(r.id)?.operatorId ?? r.id,
    url: r.url,
  }));
  const picked = selectChallengers({
    claim,
    target: {
      nodeId: node.id,
      operatorId: oracle.standing.get(node.id)?.operatorId ?? node.id,
      url: nodeUrlOf(node),
    },
    oracle: { nodeId: ORACLE_ID, location: ORACLE_LOCATION },
    candidates,
    count: CHALLENGERS_PER_TARGET,
  });
  const ev = oracle.evidenceOf(node.id);
  const observations: LatencyObservation[] = [];
  const targetUp = node.state === 'up';
  for (const c of picked) {
    const challenger = c.nodeId === ORACLE_ID ? undefined : nodesById.get(c.nodeId);
    const from = challenger ? challenger.trueLocation : ORACLE_LOCATION;
    let answered = targetUp && (!challenger || challenger.state === 'up');
    let rttMs =
      PROBE_ACCESS_RTT_MS +
      (2 * greatCircleDistanceKm(from, node.trueLocation) * ROUTE_STRETCH) / FIBER_KM_PER_MS +
      exponential(rand, 0.2);
    if (challenger?.role === 'sleeper' && challenger.state === 'up') {
      if (node.role !== undefined) {
        // The attacker's own target (a sticky sybil's new claim): vouch, "answered in 1 ms", as if next to it.
        answered = true;
        rttMs = PROBE_ACCESS_RTT_MS;
      } else if (!isLoudSleeper(challenger) || rand() < 0.5) answered = false;
      // Loud sleepers also claim impossible round trips (the majority contradicts them); quiet ones only
      // say "not answered", which nothing contradicts, and keep their standing to check others.
      else rttMs = PROBE_ACCESS_RTT_MS;
    }
    // The oracle probes every challenger each round: a node challenger that is up was reached.
    const availability = availabilityStatusOf({
      answered,
      byAuthority: !challenger,
      reporterReachedByOracle: !challenger || challenger.state === 'up',
    });
    if (availability.status !== 'inconclusive') {
      ev.addAvailability(availability.status === 'up', nowMs);
      oracle.recordAvailability(node.id, availability.status === 'up');
      if (availability.status === 'down' && targetUp && node.role === undefined)
        oracle.metrics.falseDownReports++;
    }
    if (answered)
      observations.push({
        challengerId: c.nodeId,
        challengerLocation: challenger
          ? (placement.registry.get(challenger.id)?.location ?? challenger.claimedLocation)
          : ORACLE_LOCATION,
        rttMs,
      });
  }
  oracle.markDirty(node.id);
  const judged = judgeLocationWindow({
    targetNodeId: node.id,
    claim: { nodeId: node.id, location: claim, url: nodeUrlOf(node), models: [], claimedAtMs },
    observations,
    minChallengers: oracle.config.minChallengers,
    verifiedWithinKm: oracle.config.verifiedWithinKm,
    minTightChallengers: oracle.config.minTightChallengers,
    atMs: nowMs,
    isJudged: (id) => id !== ORACLE_ID,
  });
  if (!judged) return undefined;
  const [location, ...challengerVerdicts] = judged.verdicts;
  if (location && location.status !== 'inconclusive') ev.location = location;
  if (node.role === undefined) bump(oracle.metrics.honestLocation, judged.verdict.status);
  for (const v of challengerVerdicts) {
    if (v.status !== 'invalid') continue;
    oracle.evidenceOf(v.nodeId).misconductAtMs.push(nowMs);
    oracle.markDirty(v.nodeId);
    const c = nodesById.get(v.nodeId);
    if (c) bump(oracle.metrics.contradicted, classOf(c));
  }
  return judged.verdict.status;
}
