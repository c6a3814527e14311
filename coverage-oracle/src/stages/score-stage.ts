import { isHexEdgeError, type TrustScoreEntry } from '@hexedge/protocol';
import type { OracleDirectory } from '../directory.ts';
import type { StakeLedger } from '../stake/stake-ledger.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import { emptyEvidence, type NodeEvidence } from '../trust/node-evidence.ts';
import { standingFromEvidence, type StandingPolicy } from '../trust/standing.ts';
import type { StandingBook, StandingEntry } from '../trust/standing-book.ts';
import { toTrustScoreEntry, trustFromEvidence, type TrustSink } from '../trust/trust-score.ts';
import { claimOf } from './location-reports.ts';
import type { Stage } from './stage.ts';

export interface ScoreStageOptions {
  store: OracleStore;
  sink?: TrustSink;
  intervalMs?: number;
  /** Standing (verifier or not) is recomputed with the scores, for every node listed or judged. */
  standing?: { book: StandingBook; ledger: StakeLedger; directory: OracleDirectory; policy: StandingPolicy };
}

/**
 * Score: recomputes each node's trust from its evidence at most every `intervalMs`, keeps it, and
 * publishes changes to the sink: the score, whether it is still unknown (no verified work: placement
 * keeps it on probation) and the location claim its latest proof judged. It also recomputes every
 * node's standing. A sink that does not know a node is not a fault; anything else it throws is.
 *
 * It reads the store's per-node evidence (folded as each verdict is saved), never the verdicts: a tick
 * costs O(nodes), not O(history). That evidence covers all of a node's verdicts (no lookback window:
 * evidence older than 8 half-lives weighs < 0.4 %), so the counts in the reasons are all-time.
 */
export class ScoreStage implements Stage {
  readonly name = 'score';
  readonly #o: ScoreStageOptions;
  readonly #intervalMs: number;
  readonly #published = new Map<string, string>();
  #lastRunMs = Number.NEGATIVE_INFINITY;

  constructor(options: ScoreStageOptions) {
    this.#o = options;
    this.#intervalMs = options.intervalMs ?? 10_000;
  }

  async tick(nowMs: number): Promise<number> {
    if (nowMs - this.#lastRunMs < this.#intervalMs) return 0;
    this.#lastRunMs = nowMs;
    const { store } = this.#o;
    const byNode = new Map<string, Readonly<NodeEvidence>>();
    for (const e of store.listNodeEvidence()) byNode.set(e.nodeId, e);
    const previous = new Map(store.listTrust().map((t) => [t.nodeId, t]));
    const scores = new Map<string, number>();
    let published = 0;
    for (const [nodeId, evidence] of [...byNode].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const trust = trustFromEvidence(evidence, nowMs);
      scores.set(nodeId, trust.score);
      const before = previous.get(nodeId);
      if (!before || before.score !== trust.score || before.reasons.join('\n') !== trust.reasons.join('\n')) {
        store.saveTrust({
          nodeId,
          score: trust.score,
          reasons: trust.reasons,
          components: trust.components,
          updatedAtMs: nowMs,
        });
      }
      const entry = toTrustScoreEntry(nodeId, trust);
      const key = JSON.stringify(entry);
      if (this.#published.get(nodeId) !== key && this.#publish(entry)) {
        this.#published.set(nodeId, key);
        published++;
      }
    }
    this.#recomputeStanding({ byNode, scores, nowMs });
    return published;
  }

  #recomputeStanding(options: {
    byNode: Map<string, Readonly<NodeEvidence>>;
    scores: Map<string, number>;
    nowMs: number;
  }): void {
    const s = this.#o.standing;
    if (!s) return;
    const ids = new Set([...s.directory.listNodes().map((n) => n.nodeId), ...options.byNode.keys()]);
    const entries = new Map<string, StandingEntry>();
    for (const nodeId of ids) {
      const stake = s.ledger.stakeOf(nodeId, options.nowMs);
      const node = s.directory.getNode(nodeId);
      const standing = standingFromEvidence({
        evidence: options.byNode.get(nodeId) ?? emptyEvidence(nodeId),
        bondedBaseUnits: stake.bondedBaseUnits,
        trust: options.scores.get(nodeId),
        claim: node ? claimOf(node) : undefined,
        policy: s.policy,
        nowMs: options.nowMs,
      });
      entries.set(nodeId, {
        standing,
        operatorId: stake.operatorId ?? nodeId,
        stakeBaseUnits: stake.bondedBaseUnits,
      });
    }
    s.book.replace(entries);
  }

  #publish(entry: TrustScoreEntry): boolean {
    try {
      this.#o.sink?.publish(entry);
      return true;
    } catch (err) {
      if (isHexEdgeError(err) && (err.code === 'UNKNOWN_NODE' || err.code === 'INVALID_REQUEST'))
        return false;
      throw err;
    }
  }
}
