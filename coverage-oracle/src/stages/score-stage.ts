import { isHexEdgeError } from '@hexedge/protocol';
import type { OracleStore } from '../store/oracle-store.ts';
import { computeTrust, TRUST_HALF_LIFE_MS, type TrustSink } from '../trust/trust-score.ts';
import type { Stage } from './stage.ts';

/** Evidence older than this many half-lives weighs under 0.4 % and is not read. */
const LOOKBACK_HALF_LIVES = 8;

/**
 * Score: recomputes each node's trust from its verdicts at most every `intervalMs`, keeps it, and
 * publishes changes to the sink (placement). A sink that does not know a node (a hotspot that runs no
 * compute) is not a fault; anything else it throws is.
 */
export class ScoreStage implements Stage {
  readonly name = 'score';
  readonly #store: OracleStore;
  readonly #sink: TrustSink | undefined;
  readonly #intervalMs: number;
  readonly #halfLifeMs: number;
  readonly #markedVerified = new Set<string>();
  #lastRunMs = Number.NEGATIVE_INFINITY;

  constructor(options: { store: OracleStore; sink?: TrustSink; intervalMs?: number; halfLifeMs?: number }) {
    this.#store = options.store;
    this.#sink = options.sink;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#halfLifeMs = options.halfLifeMs ?? TRUST_HALF_LIFE_MS;
  }

  async tick(nowMs: number): Promise<number> {
    if (nowMs - this.#lastRunMs < this.#intervalMs) return 0;
    this.#lastRunMs = nowMs;
    const verdicts = this.#store.listVerdicts({ sinceMs: nowMs - LOOKBACK_HALF_LIVES * this.#halfLifeMs });
    const byNode = new Map<string, typeof verdicts>();
    for (const v of verdicts) byNode.set(v.nodeId, [...(byNode.get(v.nodeId) ?? []), v]);
    const previous = new Map(this.#store.listTrust().map((t) => [t.nodeId, t]));
    let published = 0;
    for (const [nodeId, nodeVerdicts] of [...byNode].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const trust = computeTrust({ verdicts: nodeVerdicts, nowMs, halfLifeMs: this.#halfLifeMs });
      const before = previous.get(nodeId);
      const changed = !before || before.score !== trust.score || before.reasons.join('\n') !== trust.reasons.join('\n');
      if (changed) {
        this.#store.saveTrust({ nodeId, score: trust.score, reasons: trust.reasons, components: trust.components, updatedAtMs: nowMs });
        this.#publish(() => this.#sink?.setTrust(nodeId, trust.score, trust.reasons));
        published++;
      }
      if (trust.locationVerified && !this.#markedVerified.has(nodeId) && this.#sink?.markLocationVerified) {
        if (this.#publish(() => this.#sink!.markLocationVerified!(nodeId))) this.#markedVerified.add(nodeId);
      }
    }
    return published;
  }

  #publish(call: () => unknown): boolean {
    try {
      call();
      return true;
    } catch (err) {
      if (isHexEdgeError(err) && (err.code === 'UNKNOWN_NODE' || err.code === 'INVALID_REQUEST')) return false;
      throw err;
    }
  }
}
