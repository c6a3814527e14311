/**
 * One spot check, as the oracle's receipt checks run it (stages/receipt-checks.ts): checkers drawn by
 * the real `drawCheckers` with the epoch's secret seed from verifiers with standing (the StandingBook
 * the score stage fills), weighted by stake, one per operator and prefix; then the real refereed
 * decision (spot-decisions.ts), with the audit share drawn at `refereeAuditRate`.
 *
 * Seam: production hands `drawCheckers` every verifier serving the model and hashes each one per
 * sample. Here it gets POOL_SIZE verifiers drawn uniformly from them (every verifier bonds the same
 * stake, so the draw's distribution is the same), because hashing 70k candidates per check does not
 * fit a simulation — nor, at 5 % of a million requests a second, an oracle (noted in the README).
 */
import { drawCheckers, type CheckerCandidate, type StandingBook } from '@hexedge/coverage-oracle';
import type { Answer, Decision, SpotDecisions } from './spot-decisions.ts';
import type { AdversaryMetrics } from './adversary-metrics.ts';
import { nodeUrlOf, type SimNode } from '../nodes.ts';
import type { Rng } from '../random.ts';

export const POOL_SIZE = 8;
/** Receipt variants a grinder signs per cheated answer (the attack needed 42). */
export const GRIND_VARIANTS = 42;

/** The node a sample is of: a simulated node, or one of detection.ts's cheaters. */
export interface CheckedNode {
  id: string;
  url: string;
  /** The attacker's: its sleepers vouch for it instead of framing it. */
  sybil: boolean;
  grinder: boolean;
}

export interface CheckResult {
  decision: Decision;
  receiptHash: string;
  checkers: SimNode[];
}

export interface CheckDeps {
  book: StandingBook;
  decisions: SpotDecisions;
  metrics: AdversaryMetrics;
  rand: Rng;
  nodesById: Map<string, SimNode>;
  verifiersFor: (model: string) => readonly string[];
  checkersPerSample: number;
  refereeAuditRate: number;
  /** Grinding attempts left to run for real (each hashes GRIND_VARIANTS × POOL_SIZE candidates). */
  grindBudget: { left: number };
}

export const randomHex = (rand: Rng, bytes = 32) => {
  let s = '';
  for (let i = 0; i < bytes; i++)
    s += Math.floor(rand() * 256)
      .toString(16)
      .padStart(2, '0');
  return s;
};

const isSleeper = (n: SimNode | undefined) => n?.role === 'sleeper';

export async function runCheck(
  deps: CheckDeps,
  o: { node: CheckedNode; model: string; answer: 'right' | 'wrong'; seed: string; guessedSeed: string },
): Promise<CheckResult> {
  const { rand, book, nodesById, metrics } = deps;
  const all = deps.verifiersFor(o.model);
  const pool: CheckerCandidate[] = [];
  for (let i = 0; i < Math.min(POOL_SIZE * 2, all.length * 2) && pool.length < POOL_SIZE; i++) {
    const id = all[Math.floor(rand() * all.length)]!;
    if (id === o.node.id || pool.some((c) => c.nodeId === id)) continue;
    const v = book.verifier(id);
    if (v) pool.push({ ...v, url: nodeUrlOf(nodesById.get(id)!) });
  }
  const checked = {
    nodeId: o.node.id,
    operatorId: o.node.sybil ? `attacker:${o.node.id}` : o.node.id,
    url: o.node.url,
  };
  const draw = (seed: string, receiptHash: string) =>
    drawCheckers({ seed, receiptHash, candidates: pool, checked, count: deps.checkersPerSample });

  let receiptHash = randomHex(rand);
  if (o.node.grinder && o.answer === 'wrong' && deps.grindBudget.left > 0) {
    // The grinder signs variants and keeps the one whose draw, by the seed it can know (the last one
    // published), gives its own verifiers the most slots. The oracle draws with this epoch's secret.
    deps.grindBudget.left--;
    let best = { hash: receiptHash, sleepers: -1 };
    for (let v = 0; v < GRIND_VARIANTS; v++) {
      const hash = randomHex(rand);
      const sleepers = (await draw(o.guessedSeed, hash)).filter((c) =>
        isSleeper(nodesById.get(c.nodeId)),
      ).length;
      if (sleepers > best.sleepers) best = { hash, sleepers };
    }
    receiptHash = best.hash;
    metrics.grinds++;
    metrics.grindGuessSleeperSlots += best.sleepers;
  }
  const drawn = await draw(o.seed, receiptHash);
  const checkers = drawn.map((c) => nodesById.get(c.nodeId)!);
  const answers: Answer[] = checkers.map((c) => {
    if (c.state !== 'up') return 'silent';
    if (!isSleeper(c)) return 'right';
    // A sleeper vouches for the attacker's own wrong answers and frames everyone else's right ones.
    if (o.node.sybil) return o.answer;
    metrics.frameAttempts++;
    return 'frame';
  });
  const sleeperSlots = checkers.filter(isSleeper).length;
  metrics.checkerSlots += checkers.length;
  metrics.sleeperSlots += sleeperSlots;
  if (o.node.grinder && o.answer === 'wrong') {
    metrics.grindRealSleeperSlots += sleeperSlots;
    metrics.grindSlots += checkers.length;
  }
  const decision = await deps.decisions.decide({
    node: o.answer,
    checkers: answers,
    audit: rand() < deps.refereeAuditRate,
  });
  if (o.answer === 'wrong' && decision.node === 'pass') metrics.collusionPasses++;
  metrics.realChecks++;
  return { decision, receiptHash, checkers };
}
