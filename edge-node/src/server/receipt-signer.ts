import {
  MAX_BATCH_LEAVES,
  signBatch,
  type BatchReceipt,
  type NodeKeyPair,
  type ReceiptBody,
  type SignedReceipt,
} from '@hexedge/protocol';
import type { ReceiptCrypto } from './receipt-crypto.ts';

/** Signs the receipt of one answer, alone or with others. */
export interface ReceiptSigner {
  sign(body: ReceiptBody): SignedReceipt | Promise<SignedReceipt>;
}

/** Receipts as the node's config asks for them: `batch` (one signature per batch, the default) or `single`. */
export interface ReceiptOptions {
  mode: 'batch' | 'single';
  /** Leaves one root commits at most; a batch that fills is signed at once. */
  maxBatchLeaves: number;
  /** How long the first answer of a batch waits for others; 0: until the end of this event-loop turn. */
  maxBatchDelayMs: number;
}
export const DEFAULT_RECEIPT_OPTIONS: ReceiptOptions = {
  mode: 'batch',
  maxBatchLeaves: 256,
  maxBatchDelayMs: 0,
};
/** The longest a node may hold answers for a batch root: latency the caller pays for cheaper signing. */
export const MAX_BATCH_DELAY_MS = 5;

/** One Ed25519 signature per receipt (wire v1). */
export function singleReceiptSigner(options: { crypto: ReceiptCrypto; keys: NodeKeyPair }): ReceiptSigner {
  return { sign: (body) => options.crypto.sign('receipt', body, options.keys) };
}

const nextTurn: (run: () => void) => void =
  typeof setImmediate === 'function' ? (run) => void setImmediate(run) : (run) => void setTimeout(run, 0);

/**
 * One Ed25519 signature per batch of answers (wire v2): answers that finish together — the requests
 * of one dynamic batch of the model scheduler resolve in the same event-loop turn — are leaves of one
 * Merkle tree whose root is signed once, and each answer carries its leaf, proof and the signed root.
 * Signing cost per answer falls as load rises; at one request at a time it is one signature plus a
 * leaf hash, as before. A failed signature fails every answer of its batch (nothing half-signed).
 */
export class BatchReceiptSigner implements ReceiptSigner {
  readonly #crypto: ReceiptCrypto;
  readonly #keys: NodeKeyPair;
  readonly #maxLeaves: number;
  readonly #delayMs: number;
  readonly #now: () => number;
  #pending: Array<{ body: ReceiptBody; resolve: (r: BatchReceipt) => void; reject: (e: unknown) => void }> =
    [];
  #scheduled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Roots signed and receipts issued (metrics, tests: many receipts, few signatures). */
  readonly stats = { roots: 0, receipts: 0 };

  constructor(options: {
    crypto: ReceiptCrypto;
    keys: NodeKeyPair;
    maxBatchLeaves?: number;
    maxBatchDelayMs?: number;
    now?: () => number;
  }) {
    this.#crypto = options.crypto;
    this.#keys = options.keys;
    this.#maxLeaves = Math.min(MAX_BATCH_LEAVES, Math.max(1, options.maxBatchLeaves ?? 256));
    this.#delayMs = Math.min(MAX_BATCH_DELAY_MS, Math.max(0, options.maxBatchDelayMs ?? 0));
    this.#now = options.now ?? Date.now;
  }

  sign(body: ReceiptBody): Promise<BatchReceipt> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ body, resolve, reject });
      if (this.#pending.length >= this.#maxLeaves) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        if (this.#delayMs > 0) this.#timer = setTimeout(() => this.#flush(), this.#delayMs);
        else nextTurn(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    clearTimeout(this.#timer);
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    signBatch({
      kind: 'receipt',
      bodies: batch.map((p) => p.body),
      keys: this.#keys,
      nowMs: this.#now(),
      sha256: this.#crypto.sha256Hex,
      sign: (kind, body, keys) => this.#crypto.sign(kind, body, keys),
    }).then(
      (signed) => {
        this.stats.roots++;
        this.stats.receipts += signed.length;
        signed.forEach((s, i) => batch[i]!.resolve(s as BatchReceipt));
      },
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  }
}

/** The signer a node's receipt options ask for. */
export function createReceiptSigner(options: {
  crypto: ReceiptCrypto;
  keys: NodeKeyPair;
  receipts?: Partial<ReceiptOptions>;
}): ReceiptSigner & { stats?: BatchReceiptSigner['stats'] } {
  const r = { ...DEFAULT_RECEIPT_OPTIONS, ...options.receipts };
  if (r.mode === 'single') return singleReceiptSigner(options);
  return new BatchReceiptSigner({
    crypto: options.crypto,
    keys: options.keys,
    maxBatchLeaves: r.maxBatchLeaves,
    maxBatchDelayMs: r.maxBatchDelayMs,
  });
}
