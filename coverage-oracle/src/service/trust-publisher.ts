import type { NodeKeyPair } from '@hexedge/protocol';
import type { TrustSink } from '../trust/trust-score.ts';
import {
  clipReasons,
  MAX_SCORES_PER_MESSAGE,
  signTrustMessage,
  TRUST_PATH,
  type TrustScoreEntry,
} from '@hexedge/protocol';

export type HttpFetch = typeof fetch;

/** A gateway that does not answer within this is treated as down for this push; the scores stay pending. */
const PUSH_TIMEOUT_MS = 5_000;

/**
 * The oracle's TrustSink over HTTP: the score stage's changes are collected and pushed, signed, to
 * every gateway at the next flush; a failed push keeps them pending. A periodic full push re-sends
 * every score, so a gateway that restarted, or a node that registered after its score was first
 * pushed (the gateway ignores nodes it does not know), catches up. After an oracle restart the score
 * stage's first run publishes every node again (it starts with nothing published).
 */
export class TrustPublisher implements TrustSink {
  readonly #keys: NodeKeyPair;
  readonly #targets: readonly string[];
  readonly #fetch: HttpFetch;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #latest = new Map<string, TrustScoreEntry>();
  readonly #pending = new Set<string>();
  #seq: number;
  #lastFullPushMs = Number.NEGATIVE_INFINITY;
  #lastDeliveredAtMs = 0;

  constructor(options: {
    keys: NodeKeyPair;
    gatewayUrls: readonly string[];
    fetch: HttpFetch;
    nowMs?: () => number;
    log?: (m: string) => void;
  }) {
    this.#keys = options.keys;
    this.#targets = options.gatewayUrls;
    this.#fetch = options.fetch;
    this.#now = options.nowMs ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#seq = this.#now();
  }

  /** The score stage's latest entry for a node: pushed at the next flush. */
  publish(entry: TrustScoreEntry): void {
    this.#latest.set(entry.nodeId, { ...entry, reasons: clipReasons(entry.reasons) });
    this.#pending.add(entry.nodeId);
  }

  /** When a push last reached every gateway (0 before the first). */
  get lastDeliveredAtMs(): number {
    return this.#lastDeliveredAtMs;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Pushes pending scores (all of them when a full push is due); returns how many were delivered to every gateway. */
  async flush(options: { fullPushIntervalMs?: number } = {}): Promise<number> {
    const nowMs = this.#now();
    const full =
      options.fullPushIntervalMs !== undefined && nowMs - this.#lastFullPushMs >= options.fullPushIntervalMs;
    const ids = full ? [...this.#latest.keys()] : [...this.#pending];
    if (ids.length === 0 || this.#targets.length === 0) return 0;
    if (full) this.#lastFullPushMs = nowMs;
    this.#pending.clear();
    let delivered = 0;
    for (let i = 0; i < ids.length; i += MAX_SCORES_PER_MESSAGE) {
      const chunk = ids.slice(i, i + MAX_SCORES_PER_MESSAGE);
      const scores = chunk.map((id) => ({
        ...this.#latest.get(id)!,
        reasons: [...this.#latest.get(id)!.reasons],
        ...(this.#latest.get(id)!.verifiedClaim
          ? { verifiedClaim: { ...this.#latest.get(id)!.verifiedClaim! } }
          : {}),
      }));
      this.#seq = Math.max(this.#seq + 1, nowMs);
      const body = JSON.stringify(
        await signTrustMessage({ oracle: this.#keys, seq: this.#seq, issuedAtMs: nowMs, scores }),
      );
      const results = await Promise.all(this.#targets.map((url) => this.#post(url, body)));
      if (results.every(Boolean)) {
        delivered += chunk.length;
        this.#lastDeliveredAtMs = nowMs;
      } else for (const id of chunk) this.#pending.add(id);
    }
    return delivered;
  }

  async #post(gatewayUrl: string, body: string): Promise<boolean> {
    try {
      const res = await this.#fetch(new URL(TRUST_PATH, gatewayUrl).href, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (res.ok) return true;
      this.#log(`trust push to ${gatewayUrl} answered HTTP ${res.status}`);
    } catch (err) {
      this.#log(`trust push to ${gatewayUrl} failed: ${(err as Error).message}`);
    }
    return false;
  }
}
