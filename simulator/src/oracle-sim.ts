/**
 * The coverage oracle's trust loop on simulated evidence, with the oracle's own code: spot checks at
 * its configured sampling rate compared with `maxAbsDifference` and judged by majority like
 * `SpotChecker`, latency proofs of location combined by `combineLocationObservations`, trust from
 * `computeTrust`, published to placement's `setTrust` / `markLocationVerified` every `scoreIntervalMs`.
 */
import { combineLocationObservations, computeTrust, maxAbsDifference, parseOracleConfig, type LatencyObservation, type OracleConfig, type Verdict } from '@hexedge/coverage-oracle';
import type { Placement } from '@hexedge/placement';
import { greatCircleDistanceKm } from '@hexedge/protocol';
import type { SimNode } from './nodes.ts';
import type { SampledRequest } from './requests.ts';
import { exponential, poisson, type Rng } from './random.ts';
import { FIBER_KM_PER_MS, ROUTE_STRETCH } from '@hexedge/placement';
import { PROBE_ACCESS_RTT_MS } from './world.ts';

/**
 * Spot-check verdicts kept per node. The real oracle keeps them all; past this many passes a node's
 * spot-check component is ≥ 0.97 and moves by less than the trust weight can tell apart, so the ring
 * bounds memory and scoring time at 1M nodes. Frauds are never dropped.
 */
export const SPOT_CHECK_RING = 32;
/** Challengers per location proof (the oracle service's `challengersPerNode` default). */
export const CHALLENGERS_PER_NODE = 5;

const REFERENCE_OUTPUT = [0.12, 0.71, 0.17];

interface Evidence {
  spotAtMs: number[];
  spotPass: boolean[];
  frauds: number[];
  location?: Verdict;
}

/** What a run needs of its oracle: OracleSim here, or adversary mode's AdversaryOracle (the oracle's own code). */
export interface SimOracle {
  readonly config: OracleConfig;
  onServed(node: SimNode, o: { weight: number; nowMs: number; request: SampledRequest }): void;
  score(nowMs: number): number;
  spotChecks: number;
  frauds: number;
}

export class OracleSim implements SimOracle {
  readonly config: OracleConfig = parseOracleConfig({});
  readonly #placement: Placement;
  readonly #rand: Rng;
  readonly #evidence = new Map<string, Evidence>();
  readonly #dirty = new Set<string>();
  readonly #dishonestShare: number;
  spotChecks = 0;
  frauds = 0;

  constructor(o: { placement: Placement; rand: Rng; dishonestShare: number }) {
    this.#placement = o.placement;
    this.#rand = o.rand;
    this.#dishonestShare = o.dishonestShare;
  }

  /**
   * One sampled request served by `node` stands for `weight` real ones; the oracle checks each with
   * probability `samplingRate`, so Poisson(weight × rate) checks fall on this node now.
   */
  onServed(node: SimNode, o: { weight: number; nowMs: number }): void {
    const count = Math.min(SPOT_CHECK_RING, poisson(this.#rand, o.weight * this.config.samplingRate));
    if (count === 0) return;
    const ev = this.#get(node.id);
    for (let i = 0; i < count; i++) {
      const verdict = this.#judge(node);
      if (verdict === 'inconclusive') continue;
      this.spotChecks++;
      if (verdict === 'fraud') {
        this.frauds++;
        ev.frauds.push(o.nowMs);
      } else {
        ev.spotAtMs.push(o.nowMs);
        ev.spotPass.push(true);
        if (ev.spotAtMs.length > SPOT_CHECK_RING) {
          ev.spotAtMs.shift();
          ev.spotPass.shift();
        }
      }
    }
    this.#dirty.add(node.id);
  }

  /** A latency proof of the node's claim by its nearest challengers (their claims are what the oracle knows). */
  proveLocation(node: SimNode, o: { challengers: SimNode[]; nowMs: number }): void {
    const observations: LatencyObservation[] = o.challengers.map((c) => ({
      challengerId: c.id,
      challengerLocation: c.claimedLocation,
      rttMs: PROBE_ACCESS_RTT_MS + (2 * greatCircleDistanceKm(c.trueLocation, node.trueLocation) * ROUTE_STRETCH) / FIBER_KM_PER_MS + exponential(this.#rand, 0.2),
    }));
    const verdict = combineLocationObservations({ claim: node.claimedLocation, observations, minChallengers: this.config.minChallengers, verifiedWithinKm: this.config.verifiedWithinKm, minTightChallengers: this.config.minTightChallengers });
    if (verdict.status === 'inconclusive' && verdict.reason === 'TOO_FEW_CHALLENGERS') return;
    this.#get(node.id).location = {
      id: `loc:${node.id}:${o.nowMs}`,
      nodeId: node.id,
      kind: 'location',
      status: verdict.status,
      reason: verdict.reason,
      atMs: o.nowMs,
      details: { locationTrust: verdict.locationTrust },
    };
    this.#dirty.add(node.id);
  }

  /** The score stage: recompute and publish trust for nodes with new evidence. */
  score(nowMs: number): number {
    let published = 0;
    for (const nodeId of this.#dirty) {
      const ev = this.#evidence.get(nodeId)!;
      const verdicts: Verdict[] = [];
      if (ev.location) verdicts.push(ev.location);
      ev.spotAtMs.forEach((atMs, i) => verdicts.push({ id: `spot:${nodeId}:${i}`, nodeId, kind: 'spot-check', status: ev.spotPass[i] ? 'pass' : 'fraud', atMs }));
      ev.frauds.forEach((atMs, i) => verdicts.push({ id: `fraud:${nodeId}:${i}`, nodeId, kind: 'spot-check', status: 'fraud', reason: 'OUTPUT_MISMATCH', atMs }));
      const trust = computeTrust({ verdicts, nowMs });
      if (this.#placement.registry.get(nodeId)) {
        this.#placement.setTrust(nodeId, trust.score, trust.reasons);
        if (trust.locationVerified) this.#placement.markLocationVerified(nodeId);
        published++;
      }
    }
    this.#dirty.clear();
    return published;
  }

  trustOf(nodeId: string): number {
    return this.#placement.getTrust(nodeId).score;
  }

  /** Majority of three re-runs, as SpotChecker judges: honest checkers agree within tolerance, liars do not. */
  #judge(node: SimNode): 'pass' | 'fraud' | 'inconclusive' {
    const tolerance = this.config.defaultTolerance;
    const answer = (lies: boolean) => (lies ? REFERENCE_OUTPUT.map(() => this.#rand()) : REFERENCE_OUTPUT.map((v) => v + (this.#rand() - 0.5) * tolerance * 0.1));
    const original = answer(this.#rand() < node.lieRate);
    const checkers = Array.from({ length: this.config.checkersPerSample }, () => answer(this.#rand() < this.#dishonestShare));
    const agree = checkers.filter((c) => maxAbsDifference(original, c) <= tolerance).length;
    if (agree * 2 > checkers.length) return 'pass';
    const honestCluster = checkers.filter((c) => maxAbsDifference(REFERENCE_OUTPUT, c) <= tolerance).length;
    return honestCluster * 2 > checkers.length ? 'fraud' : 'inconclusive';
  }

  #get(nodeId: string): Evidence {
    let ev = this.#evidence.get(nodeId);
    if (!ev) this.#evidence.set(nodeId, (ev = { spotAtMs: [], spotPass: [], frauds: [] }));
    return ev;
  }
}
