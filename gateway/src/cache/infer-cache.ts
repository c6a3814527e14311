import {
  canonicalBytes,
  sha256Hex,
  tensorsDigestInput,
  type InferRequest,
  type InferResponse,
  type ModelManifest,
  type NodeModel,
  type Sha256Hex,
  type Tensor,
} from '@hexedge/protocol';
import { LruTtlCache, type CacheLimits, type EvictionReason } from './lru-ttl.ts';

/** What a lookup came to (the metric's `result` label and the `X-HexEdge-Cache` header). */
export type CacheOutcome = 'hit' | 'miss' | 'bypass' | 'uncacheable';

/** How a request may use the cache: `policy.cache: false` → neither; `Cache-Control: no-cache` → store only; `no-store` → neither. */
export interface CacheUse {
  read: boolean;
  write: boolean;
}

export const DEFAULT_CACHE_LIMITS: CacheLimits = {
  ttlMs: 60_000,
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
};

interface Entry {
  response: InferResponse;
  nodeId: string;
  contentId: string;
  inputDigest: string;
}

/** A lookup's verdict, with what `store` needs after a miss. */
export interface CacheLookup {
  outcome: CacheOutcome;
  /** The cached answer, re-addressed to this request (hit only). */
  hit?: InferResponse;
  /** Where to store the fresh answer (miss only, when the request may write). */
  slot?: { key: string; contentId: string; inputDigest: string };
}

type Candidate = { node: { id: string }; model: NodeModel };

/**
 * The gateway's verifiable response cache. An entry is keyed by (tenant, model content id, input
 * digest, requested outputs): one tenant never reads another's entries, and a model's new bytes are a
 * new key. A hit returns the original answer with its original signed receipt (whose input digest is
 * this request's and whose model content id is the one that would serve it now), marked `cached`,
 * and only while the node that signed it is still among placement's candidates for this request:
 * healthy, above the trust floor, meeting the request's policy, still announcing those model bytes.
 * Only deterministic answers are stored: models the catalogue lists as batchable (stateless; a
 * stateful model's answer depends on what came before), answered 200 with a receipt that checked out.
 */
export class InferCache {
  readonly #lru: LruTtlCache<Entry>;
  readonly #sha256: Sha256Hex;
  readonly #now: () => number;
  readonly #onLookup: (outcome: CacheOutcome) => void;

  constructor(
    options: {
      limits?: Partial<CacheLimits>;
      now?: () => number;
      sha256?: Sha256Hex;
      onLookup?: (outcome: CacheOutcome) => void;
      onEvict?: (reason: EvictionReason) => void;
    } = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#lru = new LruTtlCache({
      limits: { ...DEFAULT_CACHE_LIMITS, ...options.limits },
      now: this.#now,
      ...(options.onEvict ? { onEvict: options.onEvict } : {}),
    });
    this.#sha256 = options.sha256 ?? sha256Hex;
    this.#onLookup = options.onLookup ?? (() => {});
  }

  get entries(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.bytes;
  }

  /**
   * Looks a request up, after placement: `candidates[0]` names the model bytes that would serve it,
   * and the cached answer's node must be among `candidates` with those bytes.
   */
  async lookup(o: {
    tenant: string | undefined;
    use: CacheUse;
    request: InferRequest;
    inputs: Tensor[] | undefined;
    candidates: readonly Candidate[];
    manifestOf: (contentId: string) => ModelManifest | undefined;
    requestId: string;
    startedMs: number;
  }): Promise<CacheLookup> {
    const outcome = (result: CacheLookup): CacheLookup => (this.#onLookup(result.outcome), result);
    if (o.tenant === undefined || (!o.use.read && !o.use.write)) return outcome({ outcome: 'bypass' });
    const first = o.candidates[0];
    const manifest = first ? o.manifestOf(first.model.contentId) : undefined;
    // Determinism is the catalogue's word: a model it does not list, or a stateful one, is never cached.
    if (!first || !manifest || manifest.contentId !== first.model.contentId || !manifest.batchable)
      return outcome({ outcome: 'uncacheable' });
    const contentId = first.model.contentId;
    const inputDigest = await this.#sha256(
      o.inputs ? tensorsDigestInput(o.inputs) : canonicalBytes(o.request.input),
    );
    const outputs = o.request.outputs?.map((x) => x.name) ?? [];
    const key = JSON.stringify([o.tenant, contentId, inputDigest, outputs]);
    const slot = o.use.write ? { key, contentId, inputDigest } : undefined;
    if (!o.use.read) return outcome({ outcome: 'bypass', ...(slot ? { slot } : {}) });
    const found = this.#lru.get(key);
    if (!found) return outcome({ outcome: 'miss', ...(slot ? { slot } : {}) });
    const entry = found.value;
    const receipt = entry.response.receipt.body;
    const stillServes = o.candidates.some(
      (c) =>
        c.node.id === entry.nodeId &&
        c.model.contentId === contentId &&
        c.model.version === receipt.modelVersion,
    );
    if (!stillServes || receipt.modelContentId !== contentId || receipt.inputDigest !== inputDigest) {
      // Its node lost standing (trust revoked, unhealthy, gone) or no longer serves these bytes.
      this.#lru.invalidate(key);
      return outcome({ outcome: 'miss', ...(slot ? { slot } : {}) });
    }
    const nowMs = this.#now();
    const totalMs = Math.round((performance.now() - o.startedMs) * 1000) / 1000;
    return outcome({
      outcome: 'hit',
      hit: {
        ...entry.response,
        id: o.requestId,
        timing: { placementMs: totalMs, nodeMs: 0, totalMs },
        cached: {
          requestId: entry.response.id,
          storedAtMs: found.storedAtMs,
          ageMs: nowMs - found.storedAtMs,
        },
      },
    });
  }

  /** Stores a fresh, receipt-checked answer under the slot its lookup gave; false when it is too large. */
  store(slot: NonNullable<CacheLookup['slot']>, response: InferResponse): boolean {
    const r = response.receipt.body;
    // Only what the lookup keyed: the receipt must name these bytes and this input.
    if (r.modelContentId !== slot.contentId || r.inputDigest !== slot.inputDigest) return false;
    // The trace is this request's, not a later hit's: cached answers carry no trace metadata.
    const { metadata: _metadata, ...receipt } = response.receipt;
    const stored: InferResponse = { ...response, receipt };
    const sizeBytes = JSON.stringify(stored).length;
    return this.#lru.set(
      slot.key,
      { response: stored, nodeId: r.nodeId, contentId: slot.contentId, inputDigest: slot.inputDigest },
      sizeBytes,
    );
  }
}
