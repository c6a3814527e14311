import { HexEdgeError, NODE_ID_PATTERN } from '@hexedge/protocol';
import type { NodeStore, TrustRecord } from './node-store.ts';

/**
 * The ranking weight of a node the oracle has not scored yet (on probation). It is not its trust: that
 * is unknown, so such a node meets no `minTrust` and keeps only PROBATION_TRAFFIC_SHARE of first places.
 */
export const DEFAULT_TRUST = 0.5;
/**
 * Below this oracle score a node gets no traffic at all, whatever the request's policy: it is the
 * score the oracle gives confirmed fraud (≤ 0.1) with a margin, well under a new node's DEFAULT_TRUST.
 * Nodes the oracle has not scored yet (probation) are not affected.
 */
export const TRUST_FLOOR = 0.2;
/**
 * A node on probation (no oracle score yet) stays primary for at most this share of the requests it
 * would win against a scored node; the rest go to the scored node first, with the new node as fall-back.
 * Enough traffic for the oracle's spot checks to judge it, little enough to bound the damage of a liar.
 */
export const PROBATION_TRAFFIC_SHARE = 0.1;
export const MAX_TRUST_REASONS = 16;
const MAX_REASON_CHARS = 200;

/** Oracle trust scores by node id, persisted through the store. */
export class TrustBook {
  readonly #byNode = new Map<string, TrustRecord>();
  readonly #store: NodeStore;

  constructor(store: NodeStore) {
    this.#store = store;
    for (const record of store.loadTrust()) this.#byNode.set(record.nodeId, record);
  }

  get(nodeId: string): TrustRecord | undefined {
    return this.#byNode.get(nodeId);
  }

  scoreOf(nodeId: string): number {
    return this.#byNode.get(nodeId)?.score ?? DEFAULT_TRUST;
  }

  /** On probation until the oracle's first score arrives. */
  isOnProbation(nodeId: string): boolean {
    return !this.#byNode.has(nodeId);
  }

  set(options: { nodeId: string; score: number; reasons?: string[]; nowMs: number }): TrustRecord {
    const { nodeId, score, reasons = [] } = options;
    if (typeof nodeId !== 'string' || !NODE_ID_PATTERN.test(nodeId)) {
      throw new HexEdgeError('INVALID_REQUEST', `trust: nodeId is not a node id: ${JSON.stringify(nodeId)}`);
    }
    if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
      throw new HexEdgeError('INVALID_REQUEST', `trust score must be a number in [0, 1], got ${String(score)}`);
    }
    if (!Array.isArray(reasons) || reasons.length > MAX_TRUST_REASONS || reasons.some((r) => typeof r !== 'string' || r.length > MAX_REASON_CHARS)) {
      throw new HexEdgeError('INVALID_REQUEST', `trust reasons must be at most ${MAX_TRUST_REASONS} strings of ≤ ${MAX_REASON_CHARS} chars`);
    }
    const record: TrustRecord = { nodeId, score, reasons: [...reasons], updatedAtMs: options.nowMs };
    this.#store.saveTrust(record);
    this.#byNode.set(nodeId, record);
    return record;
  }
}
