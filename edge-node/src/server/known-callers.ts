import { GATEWAY_IDENTITY_PATH, gatewayIdentitySchema } from '@hexedge/protocol';

/** An unknown forwarder makes the node ask its gateway for its identity again at most this often. */
export const IDENTITY_REFRESH_MIN_MS = 10_000;
const IDENTITY_TIMEOUT_MS = 5_000;

/**
 * Who may send this node inference requests: the gateways and oracles it is configured with, and the
 * key its own gateway publishes (`GET {gateway}/v1/gateway/identity`), learnt at start and again when
 * a request names a forwarder the node does not know (at most every IDENTITY_REFRESH_MIN_MS, so
 * made-up forwarders cannot make it hammer its gateway).
 */
export class KnownCallers {
  readonly #ids: Set<string>;
  readonly #gatewayUrl: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  #lastFetchMs = Number.NEGATIVE_INFINITY;
  #fetching: Promise<void> | undefined;

  constructor(options: {
    ids: readonly string[];
    gatewayUrl?: string;
    fetch?: typeof fetch;
    nowMs?: () => number;
    log?: (line: string) => void;
  }) {
    this.#ids = new Set(options.ids);
    this.#gatewayUrl = options.gatewayUrl;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.nowMs ?? Date.now;
    this.#log = options.log ?? (() => {});
  }

  get ids(): ReadonlySet<string> {
    return this.#ids;
  }

  isKnown = async (id: string): Promise<boolean> => {
    if (this.#ids.has(id)) return true;
    // A read under way may be the one that learns this forwarder (a gateway that restarted with a new
    // key sends many requests at once): wait for it rather than refuse the requests that came during it.
    if (this.#fetching) await this.#fetching;
    else if (this.#now() - this.#lastFetchMs >= IDENTITY_REFRESH_MIN_MS) await this.refresh();
    return this.#ids.has(id);
  };

  /** Asks the node's gateway for its key (concurrent callers share one request); a failure is logged, not thrown. */
  refresh(): Promise<void> {
    if (!this.#gatewayUrl) return Promise.resolve();
    this.#fetching ??= (async () => {
      this.#lastFetchMs = this.#now();
      try {
        const res = await this.#fetch(new URL(GATEWAY_IDENTITY_PATH, this.#gatewayUrl).href, {
          signal: AbortSignal.timeout(IDENTITY_TIMEOUT_MS),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const identity = gatewayIdentitySchema.parse(await res.json());
        if (!this.#ids.has(identity.reporterId))
          this.#log(`serving requests forwarded by gateway ${identity.reporterId}`);
        this.#ids.add(identity.reporterId);
      } catch (err) {
        this.#log(`cannot read the identity of gateway ${this.#gatewayUrl}: ${(err as Error).message}`);
      }
    })().finally(() => (this.#fetching = undefined));
    return this.#fetching;
  }
}
