import {
  FORWARD_AT_HEADER,
  FORWARD_MAC_HEADER,
  ForwardMacKeys,
  macForwardNow,
  MAX_FORWARD_BATCH,
  signForwardBatch,
  trimOldest,
  type ForwardRoute,
  type NodeKeyPair,
  type Sha256Hex,
} from '@hexedge/protocol';
import type { NodeAnswer } from './node-client.ts';

/** Nodes remembered as taking forward MACs at most (the oldest forgotten first: it then gets a signature). */
const MAC_NODES_MAX = 10_000;
/** What a node from before forward MACs answers a request that carries no signature (protocol's checkForward). */
const UNSIGNED_REFUSAL = 'the request is not signed by a gateway or oracle';
/**
 * What a node's replay guard answers (protocol's forward-replay.ts): REPLAYED, it served a forward with
 * this very time and body already; STALE_MESSAGE, the forward is older than it remembers under load.
 */
const REPLAY_REFUSALS: ReadonlySet<unknown> = new Set(['REPLAYED', 'STALE_MESSAGE']);

/** How to forward a request again after a node's answer (`answered`); see there. */
export interface ForwardResend {
  /** With a signature, not a MAC (the node is from before forward MACs). */
  signatureOnly?: true;
  /** With a forward time of at least this (a replay refusal of a request the gateway really sent). */
  notBeforeMs?: number;
}

interface Waiting {
  request: {
    targetNodeId: string;
    route: ForwardRoute;
    modelName: string;
    modelVersion: string;
    body: string | Uint8Array;
  };
  notBeforeMs: number | undefined;
  resolve: (headers: Record<string, string>) => void;
  reject: (err: unknown) => void;
}

/** The runtime's "after this turn's I/O callbacks" (Node's setImmediate); elsewhere the end of the current task. */
const afterThisTurn: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => void (globalThis as unknown as { setImmediate: (f: () => void) => unknown }).setImmediate(fn)
    : queueMicrotask;

/**
 * Authenticates forwarded requests. To a node that said it takes forward MACs (protocol's
 * forward-mac.ts: `acceptsForwardMac` on its answers, learnt by `answered`), an HMAC under the key the
 * gateway's and the node's identities agree, made at once (~2 µs, no Ed25519 on either side). To any
 * other node (an older one, one not heard from yet) a signature, in batches (protocol's
 * forward-batch.ts): every request that reaches the signer in one turn of the event loop shares one
 * Ed25519 signature over a Merkle root, each with its proof. A lone request (concurrency 1) gets a plain
 * forward signature at the end of the same turn, so it waits for nothing; under load the signing cost
 * per request falls with the batch size, and so does the nodes' verification cost (they remember
 * verified roots).
 */
export class ForwardBatcher {
  readonly #keys: NodeKeyPair;
  readonly #sha256: Sha256Hex | undefined;
  readonly #now: () => number;
  readonly #defer: (fn: () => void) => void;
  #waiting: Waiting[] = [];
  readonly #macs: ForwardMacKeys;
  /** Nodes whose latest answer said they take forward MACs. */
  readonly #macNodes = new Map<string, true>();

  constructor(options: {
    keys: NodeKeyPair;
    sha256?: Sha256Hex;
    now?: () => number;
    defer?: (fn: () => void) => void;
  }) {
    this.#keys = options.keys;
    this.#sha256 = options.sha256;
    this.#now = options.now ?? Date.now;
    this.#defer = options.defer ?? afterThisTurn;
    this.#macs = new ForwardMacKeys({ keys: options.keys });
  }

  /**
   * The forward headers for one request: a MAC for a node known to take them (unless `signatureOnly`),
   * else a signature (resolved once its batch is signed).
   */
  sign(
    request: Waiting['request'] & { signatureOnly?: boolean; notBeforeMs?: number },
  ): Record<string, string> | Promise<Record<string, string>> {
    const { signatureOnly, notBeforeMs, ...forward } = request;
    if (!signatureOnly && this.#macNodes.has(request.targetNodeId)) {
      // A MAC is made at once (node:crypto, the pair's key derived before): no promise then.
      let headers: ReturnType<typeof macForwardNow>;
      try {
        headers = macForwardNow({
          macs: this.#macs,
          ...forward,
          nowMs: Math.max(this.#now(), notBeforeMs ?? 0),
          ...(this.#sha256 ? { sha256: this.#sha256 } : {}),
        });
      } catch (err) {
        return Promise.reject(err);
      }
      if (headers instanceof Promise) return headers.then((h) => h ?? this.#signLater(forward, notBeforeMs));
      if (headers) return headers;
    }
    return this.#signLater(forward, notBeforeMs);
  }

  /**
   * Learns from a node's answer whether it takes forward MACs: it says so on every answer it serves; an
   * answer without it, or an older node's refusal of a request with no signature, means it does not
   * (any longer). Says how to send the request again, or undefined when its answer stands:
   * - that refusal of a request `sent` with a MAC: again with a signature (`signatureOnly`);
   * - a replay refusal (REPLAYED, STALE_MESSAGE) of a request this gateway really sent: the node's
   *   replay guard took it for a copy of one it served (this gateway forwarded the very same body to
   *   the same model in the same millisecond: two callers' requests with one `id`, in one signed batch)
   *   or for older than it remembers: again with a later forward time (`notBeforeMs`), a new forward.
   */
  answered(
    nodeId: string,
    answer: NodeAnswer,
    sent: Record<string, string> | undefined,
  ): ForwardResend | undefined {
    if (answer.acceptsForwardMac && !this.#macNodes.has(nodeId)) {
      this.#macNodes.set(nodeId, true);
      trimOldest(this.#macNodes, MAC_NODES_MAX);
    }
    const body = answer.body as { error?: unknown; code?: unknown } | null;
    const sentAtMs = Number(sent?.[FORWARD_AT_HEADER]);
    if (answer.status === 409 && REPLAY_REFUSALS.has(body?.code) && Number.isSafeInteger(sentAtMs))
      return { notBeforeMs: sentAtMs + 1 };
    if (answer.acceptsForwardMac) return undefined;
    const refusedUnsigned =
      answer.status === 403 && typeof body?.error === 'string' && body.error.endsWith(UNSIGNED_REFUSAL);
    if (answer.status === 200 || refusedUnsigned) this.#macNodes.delete(nodeId);
    return refusedUnsigned && sent?.[FORWARD_MAC_HEADER] !== undefined ? { signatureOnly: true } : undefined;
  }

  #signLater(request: Waiting['request'], notBeforeMs: number | undefined): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ request, notBeforeMs, resolve, reject }) === 1)
        this.#defer(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#waiting;
    this.#waiting = [];
    for (let at = 0; at < batch.length; at += MAX_FORWARD_BATCH) {
      const part = batch.slice(at, at + MAX_FORWARD_BATCH);
      try {
        // One time per batch: the latest a resend in it asks for (a millisecond ahead at most).
        const nowMs = part.reduce((at, w) => Math.max(at, w.notBeforeMs ?? 0), this.#now());
        const headers = await signForwardBatch({
          keys: this.#keys,
          nowMs,
          requests: part.map((w) => w.request),
          ...(this.#sha256 ? { sha256: this.#sha256 } : {}),
        });
        part.forEach((w, i) => w.resolve(headers[i]!));
      } catch (err) {
        for (const w of part) w.reject(err);
      }
    }
  }
}
