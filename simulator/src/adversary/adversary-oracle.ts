/**
 * The coverage oracle in adversary mode, on the oracle's own code: stake in the real `StakeLedger`
 * (bonds, slashes with their evidence), trust from `computeTrust`, standing from `standingOf` kept in
 * a `StandingBook`, checker draws and refereed decisions (checks.ts), location windows judged by
 * `judgeLocationWindow` (location-rounds.ts), pushed to placement through the gateway's
 * `applyTrustEntries`, rewards by `computeRewardEntries` (epoch-close.ts).
 *
 * Evidence follows each node's real traffic, not the sampled requests: a node serving r requests a
 * second (its demand, times what placement gives it: none when excluded or its circuit is open,
 * PROBATION_TRAFFIC_SHARE on probation) has Poisson(p·r·Δt) of them sampled per tick, and a liar's
 * cheated share of those binomially. Every sampled cheated answer (up to a few per tick), a node's first
 * sample and a budget of other honest samples go through the real draw and decision; the rest count
 * as passes. So a liar is caught when its real traffic makes it likely, not when the run's sparse
 * sample happens to route to it.
 */
import {
  MemoryDirectory,
  parseOracleConfig,
  StakeLedger,
  StandingBook,
  type OracleConfig,
  type StandingEntry,
  type WorkRecord,
} from '@hexedge/coverage-oracle';
import { applyTrustEntries } from '@hexedge/gateway';
import { PROBATION_TRAFFIC_SHARE, TRUST_FLOOR, type Placement } from '@hexedge/placement';
import { bytesToBase64Url, latLngToH3Cell, type TrustScoreEntry } from '@hexedge/protocol';
import { demandPerS } from '../load.ts';
import { nodeUrlOf, type SimNode } from '../nodes.ts';
import { poisson, type Rng } from '../random.ts';
import type { SampledRequest } from '../requests.ts';
import { bump, type AdversaryMetrics } from './adversary-metrics.ts';
import { binomial } from './binomial.ts';
import { runCheck, type CheckDeps, type CheckResult } from './checks.ts';
import { NodeEvidence } from './evidence.ts';
import { NEAR_CACHE_RES, type NodeRecordLike } from './location-rounds.ts';
import { SpotDecisions } from './spot-decisions.ts';
import { IndexedStakeStore } from './stake-store.ts';
import { classOf } from './node-class.ts';
import { historyLocationVerdict, scoreNode } from './node-standing.ts';
import { VerifierLists } from './verifier-lists.ts';
import { countServed } from './served-counts.ts';

// Split out by role; other modules import them from here.
export { binomial } from './binomial.ts';
export { classOf, isDishonest } from './node-class.ts';

/** Sampled cheated answers of one node run through the real decision per tick (one conviction suffices). */
const MAX_CHEATED_CHECKS_PER_TICK = 3;
const DAY_MS = 24 * 3600_000;

export class AdversaryOracle {
  readonly config: OracleConfig;
  readonly ledger: StakeLedger;
  readonly evidence = new Map<string, NodeEvidence>();
  readonly standing = new Map<string, StandingEntry>();
  readonly book = new StandingBook();
  /** The oracle directory's reporters: verifiers are challengers (sybil-reports.ts submits to ingest with it). */
  readonly directory = new MemoryDirectory();
  readonly decisions: SpotDecisions;
  readonly metrics: AdversaryMetrics;
  readonly #placement: Placement;
  readonly #nodesById: Map<string, SimNode>;
  readonly #rand: Rng;
  readonly #worldRequestsPerNodePerS: number;
  readonly #dirty = new Set<string>();
  readonly #verifiers: VerifierLists;
  /** Nodes that gained verifier standing so far, and location-rounds.ts' nearest verifiers per H3 cell (its cache). */
  verifierGains = 0;
  readonly nearVerifiers = new Map<string, NodeRecordLike[]>();
  /** Real checks of honest-behaving, known nodes per counted one (their budget per hour over the expected count). */
  readonly #honestCheckShare: number;
  #meanHonestRuns: number;
  #honestRunsSeen = { runs: 0, checks: 0 };
  readonly #grindBudget: { left: number };
  /** This epoch's sampling seed (secret until it ends) and the last published one (what a grinder can know). */
  seed = '';
  publishedSeed = '';
  /** Work (sampled requests served) and convictions in the open epoch, for its rewards. */
  epochWork: Array<WorkRecord & { wash: boolean }> = [];
  epochFrauds = new Set<string>();
  /** Availability probes per node in the open epoch (up, of total). */
  epochAvailability = new Map<string, { up: number; total: number }>();
  spotChecks = 0;
  frauds = 0;

  constructor(o: {
    placement: Placement;
    nodesById: Map<string, SimNode>;
    rand: Rng;
    metrics: AdversaryMetrics;
    worldRequestsPerNodePerS: number;
    oracleConfig?: Record<string, unknown>;
    /** Real checks of known honest-behaving nodes per simulated hour (frame attempts happen in these). */
    honestCheckBudgetPerHour: number;
    /** Spot checks an hour the honest nodes' traffic gives (to spread that budget over). */
    expectedHonestChecksPerHour: number;
    grindBudget: number;
  }) {
    this.config = parseOracleConfig(o.oracleConfig ?? {});
    this.ledger = new StakeLedger({
      store: new IndexedStakeStore(),
      slashBps: this.config.slashBps,
      unbondDelayMs: this.config.unbondDelayMs,
    });
    this.decisions = new SpotDecisions({
      minResponses: this.config.minCheckerResponses,
      tolerance: this.config.defaultTolerance,
    });
    this.metrics = o.metrics;
    this.#placement = o.placement;
    this.#nodesById = o.nodesById;
    this.#rand = o.rand;
    this.#worldRequestsPerNodePerS = o.worldRequestsPerNodePerS;
    this.#honestCheckShare = Math.min(
      1,
      o.honestCheckBudgetPerHour / Math.max(1, o.expectedHonestChecksPerHour),
    );
    this.#meanHonestRuns = this.config.checkersPerSample + this.config.refereeAuditRate;
    this.#grindBudget = { left: o.grindBudget };
    this.#verifiers = new VerifierLists({ standing: this.standing, nodesById: o.nodesById });
    this.book.replace(this.standing);
  }

  async init(): Promise<void> {
    await this.decisions.init(this.config.checkersPerSample);
    this.newEpochSeed();
  }

  newEpochSeed(): void {
    this.publishedSeed = this.seed || this.#randomSeed();
    this.seed = this.#randomSeed();
  }

  #randomSeed(): string {
    return bytesToBase64Url(Uint8Array.from({ length: 32 }, () => Math.floor(this.#rand() * 256)));
  }

  evidenceOf(nodeId: string): NodeEvidence {
    let ev = this.evidence.get(nodeId);
    if (!ev) this.evidence.set(nodeId, (ev = new NodeEvidence()));
    return ev;
  }

  markDirty(nodeId: string): void {
    this.#dirty.add(nodeId);
  }

  /**
   * A node that was part of the network before the run: bonded (the minimum stake, its own operator or
   * the attacker's account), seasoned (passes from before the seasoning period) and located (a
   * verified verdict on its current claim). Honest nodes and sleepers start so.
   */
  seedHistory(node: SimNode, o: { nowMs: number; operatorId: string }): void {
    const rec = this.#placement.registry.get(node.id)!;
    const { nowMs } = o;
    this.ledger.bond({
      nodeId: node.id,
      operatorId: o.operatorId,
      amountBaseUnits: this.config.minBondBaseUnits,
      atMs: nowMs - 30 * DAY_MS,
    });
    const ev = this.evidenceOf(node.id);
    ev.addPasses(this.config.seasoningPasses + 5, nowMs - this.config.seasoningMs - DAY_MS);
    ev.location = historyLocationVerdict({ nodeId: node.id, rec, nowMs });
    for (let i = 0; i < 8; i++) ev.addAvailability(true, nowMs - (i + 1) * 600_000);
    this.markDirty(node.id);
  }

  /** Requests a second the node really serves now: its demand, as placement shares it out (see the file comment). */
  rateOf(node: SimNode, nowMs: number): number {
    if (node.state !== 'up' || node.relay) return 0;
    const registry = this.#placement.registry;
    const rec = registry.get(node.id);
    if (!rec || registry.statusOf(rec) !== 'healthy' || this.#placement.isCircuitOpen(node.id)) return 0;
    const trust = this.#placement.getTrust(node.id);
    const share = trust.probation ? PROBATION_TRAFFIC_SHARE : trust.score < TRUST_FLOOR ? 0 : 1;
    return share * demandPerS(node, { nowMs, worldRequestsPerNodePerS: this.#worldRequestsPerNodePerS });
  }

  verifiersFor = (model: string): readonly string[] => this.#verifiers.of(model);

  checkDeps(): CheckDeps {
    return {
      book: this.book,
      decisions: this.decisions,
      metrics: this.metrics,
      rand: this.#rand,
      nodesById: this.#nodesById,
      verifiersFor: this.verifiersFor,
      checkersPerSample: this.config.checkersPerSample,
      refereeAuditRate: this.config.refereeAuditRate,
      grindBudget: this.#grindBudget,
    };
  }

  /** One sampled answer of `node` checked for real; verdicts and slashes applied as receipt-checks.ts applies them. */
  async check(
    node: SimNode,
    o: { model: string; answer: 'right' | 'wrong'; nowMs: number },
  ): Promise<CheckResult> {
    const result = await runCheck(this.checkDeps(), {
      node: {
        id: node.id,
        url: nodeUrlOf(node),
        sybil: node.role !== undefined,
        grinder: node.role === 'grinder',
      },
      model: o.model,
      answer: o.answer,
      seed: this.seed,
      guessedSeed: this.publishedSeed,
    });
    const { decision, receiptHash, checkers } = result;
    this.spotChecks++;
    this.metrics.verificationRuns += decision.checkerRuns + (decision.refereeRan ? 1 : 0);
    if (o.answer === 'right' && node.role !== 'sleeper') {
      this.#honestRunsSeen.runs += decision.checkerRuns + (decision.refereeRan ? 1 : 0);
      this.#honestRunsSeen.checks++;
      this.#meanHonestRuns = this.#honestRunsSeen.runs / this.#honestRunsSeen.checks;
    }
    const ev = this.evidenceOf(node.id);
    if (decision.node === 'pass') {
      if (!ev.known) this.markDirty(node.id);
      ev.addPasses(1, o.nowMs);
    } else if (decision.node === 'fraud')
      this.#convict(node, { role: 'node', evidenceId: receiptHash, nowMs: o.nowMs });
    decision.checkers.forEach((status, i) => {
      if (status === 'fraud')
        this.#convict(checkers[i]!, {
          role: 'checker',
          evidenceId: `${receiptHash}:${checkers[i]!.id}`,
          nowMs: o.nowMs,
        });
    });
    return result;
  }

  #convict(node: SimNode, o: { role: 'node' | 'checker'; evidenceId: string; nowMs: number }): void {
    this.frauds++;
    this.evidenceOf(node.id).frauds.push({ atMs: o.nowMs, role: o.role, evidenceId: o.evidenceId });
    this.ledger.slash({
      nodeId: node.id,
      evidenceId: o.evidenceId,
      evidence: { reason: o.role === 'node' ? 'OUTPUT_MISMATCH' : 'CHECK_DISAGREED_WITH_REFEREE' },
      atMs: o.nowMs,
    });
    bump(o.role === 'node' ? this.metrics.convictions : this.metrics.checkerFrauds, classOf(node));
    if (!this.metrics.firstConvictedAtMs.has(node.id)) this.metrics.firstConvictedAtMs.set(node.id, o.nowMs);
    this.epochFrauds.add(node.id);
    this.markDirty(node.id);
  }

  /**
   * Δt of one node's real traffic: its sampled answers, cheated ones binomially among them; see the
   * file comment for which go through the real decision.
   */
  async evidenceTick(node: SimNode, o: { nowMs: number; dtMs: number }): Promise<void> {
    const rate = this.rateOf(node, o.nowMs);
    if (rate <= 0) return;
    if (!this.metrics.firstServedAtMs.has(node.id)) this.metrics.firstServedAtMs.set(node.id, o.nowMs);
    const requests = (rate * o.dtMs) / 1000;
    this.metrics.inferenceRuns += requests;
    const sampled = poisson(this.#rand, requests * this.config.samplingRate);
    if (sampled === 0) return;
    const cheated = node.lieRate > 0 ? binomial(this.#rand, sampled, node.lieRate) : 0;
    const model = [...node.models].find(([, ready]) => ready)?.[0] ?? 'comfort-index';
    let run = 0;
    for (; run < Math.min(cheated, MAX_CHEATED_CHECKS_PER_TICK); run++) {
      const { decision } = await this.check(node, { model, answer: 'wrong', nowMs: o.nowMs });
      if (decision.node === 'fraud') {
        run++;
        break;
      }
    }
    // Cheated samples past the first conviction convict again (each its own evidence); counted, not run.
    this.#count(cheated - run);
    let honest = sampled - cheated;
    const ev = this.evidenceOf(node.id);
    if (honest > 0 && (!ev.known || this.#rand() < honest * this.#honestCheckShare)) {
      await this.check(node, { model, answer: 'right', nowMs: o.nowMs });
      honest--;
    }
    ev.addPasses(honest, o.nowMs);
    this.#count(honest);
  }

  #count(checks: number): void {
    if (checks <= 0) return;
    this.spotChecks += checks;
    this.metrics.countedChecks += checks;
    this.metrics.verificationRuns += checks * this.#meanHonestRuns;
  }

  /** The score stage for nodes with new evidence: trust, standing, and the push the gateway applies. */
  score(nowMs: number): number {
    if (this.#dirty.size === 0) return 0;
    const entries: TrustScoreEntry[] = [];
    const registry = this.#placement.registry;
    for (const id of this.#dirty) {
      const rec = registry.get(id);
      const scored = scoreNode({
        id,
        evidence: this.evidenceOf(id),
        ledger: this.ledger,
        rec,
        config: this.config,
        nowMs,
      });
      entries.push(scored.entry);
      const { standing } = scored.standing;
      const was = this.standing.get(id)?.standing.verifier ?? false;
      this.standing.set(id, scored.standing);
      if (was !== standing.verifier) {
        this.#verifiers.markStale();
        if (standing.verifier) {
          this.verifierGains++;
          if (rec) this.nearVerifiers.delete(latLngToH3Cell(rec.location, NEAR_CACHE_RES));
        }
        const node = this.#nodesById.get(id);
        // The directory lists a node as a challenger only while it has standing (GatewayDirectory's rule).
        if (node)
          this.directory.putReporter({
            nodeId: id,
            location: node.claimedLocation,
            roles: standing.verifier ? ['challenger'] : [],
          });
      }
    }
    this.#dirty.clear();
    applyTrustEntries({ placement: this.#placement, scores: entries });
    return entries.length;
  }

  recordAvailability(nodeId: string, up: boolean): void {
    let a = this.epochAvailability.get(nodeId);
    if (!a) this.epochAvailability.set(nodeId, (a = { up: 0, total: 0 }));
    a.total++;
    if (up) a.up++;
  }

  /** A sampled request served: its traffic counted, its receipt kept as the epoch's work. */
  onServed(node: SimNode, o: { weight: number; nowMs: number; request: SampledRequest }): void {
    const { request } = o;
    this.epochWork.push({
      receiptHash: String(this.epochWork.length),
      nodeId: node.id,
      modelName: request.model.name,
      modelVersion: request.model.version,
      atMs: o.nowMs,
      sampled: false,
      status: 'unchecked',
      wash: request.wash !== undefined,
    });
    countServed({ metrics: this.metrics, node, request, rand: this.#rand });
  }
}
