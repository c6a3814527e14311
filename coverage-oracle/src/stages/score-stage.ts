import { isHexEdgeError, type TrustScoreEntry } from '@hexedge/protocol';
import type { OracleDirectory } from '../directory.ts';
import type { StakeLedger } from '../stake/stake-ledger.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { Verdict } from '../store/records.ts';
import { standingOf, type StandingPolicy } from '../trust/standing.ts';
import type { StandingBook, StandingEntry } from '../trust/standing-book.ts';
import { computeTrust, toTrustScoreEntry, TRUST_HALF_LIFE_MS, type TrustSink } from '../trust/trust-score.ts';
import { claimOf } from './location-reports.ts';
import type { Stage } from './stage.ts';

/** Evidence older than this many half-lives weighs under 0.4 % and is not read. */
const LOOKBACK_HALF_LIVES = 8;

export interface ScoreStageOptions {
  store: OracleStore;
  sink?: TrustSink;
  intervalMs?: number;
  halfLifeMs?: number;
  /** Standing (verifier or not) is recomputed with the scores, for every node listed or judged. */
  standing?: { book: StandingBook; ledger: StakeLedger; directory: OracleDirectory; policy: StandingPolicy };
}

/**
 * Score: recomputes each node's trust from its verdicts at most every `intervalMs`, keeps it, and
 * publishes changes to the sink: the score, whether it is still unknown (no verified work: placement
 * keeps it on probation) and the location claim its latest proof judged. It also recomputes every
 * node's standing. A sink that does not know a node is not a fault; anything else it throws is.
 */
export class ScoreStage implements Stage {
  readonly name = 'score';
  readonly #o: ScoreStageOptions;
  readonly #intervalMs: number;
  readonly #halfLifeMs: number;
  readonly #published = new Map<string, string>();
  #lastRunMs = Number.NEGATIVE_INFINITY;

  constructor(options: ScoreStageOptions) {
    this.#o = options;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#halfLifeMs = options.halfLifeMs ?? TRUST_HALF_LIFE_MS;
  }

  async tick(nowMs: number): Promise<number> {
    if (nowMs - this.#lastRunMs < this.#intervalMs) return 0;
    this.#lastRunMs = nowMs;
    const { store } = this.#o;
    const verdicts = store.listVerdicts({ sinceMs: nowMs - LOOKBACK_HALF_LIVES * this.#halfLifeMs });
    const byNode = new Map<string, Verdict[]>();
    for (const v of verdicts) {
      const list = byNode.get(v.nodeId);
      if (list) list.push(v);
      else byNode.set(v.nodeId, [v]);
    }
    const previous = new Map(store.listTrust().map((t) => [t.nodeId, t]));
    const scores = new Map<string, number>();
    let published = 0;
    for (const [nodeId, nodeVerdicts] of [...byNode].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const trust = computeTrust({ verdicts: nodeVerdicts, nowMs, halfLifeMs: this.#halfLifeMs });
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
    byNode: Map<string, Verdict[]>;
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
      const standing = standingOf({
        verdicts: options.byNode.get(nodeId) ?? [],
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
