import {
  MAX_FORWARD_BATCH,
  signForwardBatch,
  type ForwardRoute,
  type NodeKeyPair,
  type Sha256Hex,
} from '@hexedge/protocol';

interface Waiting {
  request: {
    targetNodeId: string;
    route: ForwardRoute;
    modelName: string;
    modelVersion: string;
    body: string | Uint8Array;
  };
  resolve: (headers: Record<string, string>) => void;
  reject: (err: unknown) => void;
}

/** The runtime's "after this turn's I/O callbacks" (Node's setImmediate); elsewhere the end of the current task. */
const afterThisTurn: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => void (globalThis as unknown as { setImmediate: (f: () => void) => unknown }).setImmediate(fn)
    : queueMicrotask;

/**
 * Signs forwarded requests in batches (protocol's forward-batch.ts): every request that reaches the
 * signer in one turn of the event loop shares one Ed25519 signature over a Merkle root, each with its
 * proof. A lone request (concurrency 1) gets a plain forward signature at the end of the same turn, so
 * it waits for nothing; under load the signing cost per request falls with the batch size, and so does
 * the nodes' verification cost (they remember verified roots).
 */
export class ForwardBatcher {
  readonly #keys: NodeKeyPair;
  readonly #sha256: Sha256Hex | undefined;
  readonly #now: () => number;
  readonly #defer: (fn: () => void) => void;
  #waiting: Waiting[] = [];

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
  }

  /** The forward headers for one request (resolved once its batch is signed). */
  sign(request: Waiting['request']): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ request, resolve, reject }) === 1) this.#defer(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#waiting;
    this.#waiting = [];
    for (let at = 0; at < batch.length; at += MAX_FORWARD_BATCH) {
      const part = batch.slice(at, at + MAX_FORWARD_BATCH);
      try {
        const headers = await signForwardBatch({
          keys: this.#keys,
          nowMs: this.#now(),
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
