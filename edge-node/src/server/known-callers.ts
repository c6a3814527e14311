import { MAX_FORWARD_SKEW_MS } from '@hexedge/protocol';
import { readGatewayKeys } from './gateway-identity.ts';
import { spreadMs } from '../agent/jitter.ts';

/** An unknown forwarder makes the node ask its gateway for its identity again at most this often. */
export const IDENTITY_REFRESH_MIN_MS = 10_000;
/**
 * How long a gateway key stays trusted after the node saw it dropped from the gateway's identity. A
 * forward is accepted only within MAX_FORWARD_SKEW_MS of the time it carries, and one signed with the
 * old key was signed before the node saw the new identity: past this grace every such forward is
 * refused as stale anyway, so the old key has nothing left to serve but a leaked copy of it.
 */
export const GATEWAY_KEY_GRACE_MS = MAX_FORWARD_SKEW_MS;
/** Retired keys remembered (only to count their refusals under their own reason): the newest kept. */
const MAX_RETIRED_KEYS = 64;

export type CallerRefusal = 'unknown-forwarder' | 'retired-gateway-key';

/**
 * Who may send this node inference requests: the gateways and oracles it is configured with (always),
 * and the keys its own gateway publishes now (`GET {gateway}/v1/gateway/identity`), read at start,
 * every `watch` interval, and when a request names a forwarder the node does not know (at most every
 * IDENTITY_REFRESH_MIN_MS, so made-up forwarders cannot make it hammer its gateway). A key the gateway
 * no longer lists is trusted for GATEWAY_KEY_GRACE_MS more (forwards signed before the rotation are
 * still in flight), then refused like any unknown forwarder. A failed read changes nothing: a gateway
 * that is briefly down must not lock its own traffic out.
 */
export class KnownCallers {
  readonly #configured: ReadonlySet<string>;
  readonly #gatewayUrl: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #onRefused: (reason: CallerRefusal) => void;
  /** The keys the gateway's last successful read listed. */
  #published = new Set<string>();
  /** Keys the gateway stopped listing, to the time (ms) they are accepted until. */
  readonly #retiring = new Map<string, number>();
  readonly #retired = new Set<string>();
  #lastAskedMs = Number.NEGATIVE_INFINITY;
  #fetching: Promise<void> | undefined;
  /** Failed reads in a row: the first is logged, and the next success says how many there were. */
  #failedReads = 0;

  constructor(options: {
    ids: readonly string[];
    gatewayUrl?: string;
    fetch?: typeof fetch;
    nowMs?: () => number;
    log?: (line: string) => void;
    /** Called for each forwarder refused, with why (metrics count them). */
    onRefused?: (reason: CallerRefusal) => void;
  }) {
    this.#configured = new Set(options.ids);
    this.#gatewayUrl = options.gatewayUrl;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.nowMs ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#onRefused = options.onRefused ?? (() => {});
  }

  /** The forwarders trusted at this moment: configured, published, and replaced ones within their grace. */
  get ids(): ReadonlySet<string> {
    const nowMs = this.#now();
    const retiring = [...this.#retiring].filter(([, untilMs]) => nowMs < untilMs).map(([id]) => id);
    return new Set([...this.#configured, ...this.#published, ...retiring]);
  }

  isKnown = async (id: string): Promise<boolean> => {
    if (this.#trusts(id)) return true;
    // A read under way may be the one that learns this forwarder (a gateway that restarted with a new
    // key sends many requests at once): wait for it rather than refuse the requests that came during it.
    if (this.#fetching) await this.#fetching;
    else if (this.#gatewayUrl && this.#now() - this.#lastAskedMs >= IDENTITY_REFRESH_MIN_MS) {
      this.#lastAskedMs = this.#now();
      await this.refresh();
    }
    if (this.#trusts(id)) return true;
    this.#onRefused(this.#retired.has(id) ? 'retired-gateway-key' : 'unknown-forwarder');
    return false;
  };

  /**
   * Asks the node's gateway for its keys (concurrent callers share one request). Neither request-
   * triggered reads' rate limit nor the periodic reads count against each other: a periodic read
   * just before a rotation must not make the new key's first requests wait IDENTITY_REFRESH_MIN_MS.
   * A failure is logged (once per run of failures), not thrown, and keeps the keys.
   */
  refresh(): Promise<void> {
    const gatewayUrl = this.#gatewayUrl;
    if (!gatewayUrl) return Promise.resolve();
    this.#fetching ??= (async () => {
      try {
        const keys = await readGatewayKeys({ gatewayUrl, fetch: this.#fetch });
        if (this.#failedReads > 0)
          this.#log(
            `read the identity of gateway ${gatewayUrl} again after ${this.#failedReads} failed read(s)`,
          );
        this.#failedReads = 0;
        this.#adopt(keys);
      } catch (err) {
        if (this.#failedReads++ === 0)
          this.#log(
            `cannot read the identity of gateway ${gatewayUrl}: ${(err as Error).message}; keeping its ` +
              `keys (${[...this.#published].join(', ') || 'none yet'}) until a read succeeds`,
          );
      }
    })().finally(() => (this.#fetching = undefined));
    return this.#fetching;
  }

  /**
   * Reads the gateway's keys about every `intervalMs` (±20 % at random, so a fleet started together
   * does not read in step) until `signal` aborts; the first read about an interval after the call.
   */
  watch(options: { intervalMs: number; signal: AbortSignal; random?: () => number }): void {
    const { intervalMs, signal } = options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = () => {
      if (signal.aborted) return;
      timer = setTimeout(() => void this.refresh().then(next), spreadMs(intervalMs, 0.2, options.random));
    };
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    next();
  }

  #trusts(id: string): boolean {
    if (this.#configured.has(id) || this.#published.has(id)) return true;
    const untilMs = this.#retiring.get(id);
    if (untilMs === undefined) return false;
    if (this.#now() < untilMs) return true;
    this.#retire(id);
    return false;
  }

  #retire(id: string): void {
    this.#retiring.delete(id);
    this.#retired.delete(id);
    this.#retired.add(id);
    if (this.#retired.size > MAX_RETIRED_KEYS) this.#retired.delete(this.#retired.values().next().value!);
  }

  /** The keys a read listed become the published ones; the ones it no longer lists start their grace. */
  #adopt(keys: readonly string[]): void {
    const nowMs = this.#now();
    const next = new Set(keys);
    const added = keys.filter((k) => !this.#published.has(k));
    const dropped = [...this.#published].filter((k) => !next.has(k));
    for (const [id, untilMs] of this.#retiring) if (nowMs >= untilMs) this.#retire(id);
    for (const k of next) {
      this.#retiring.delete(k);
      this.#retired.delete(k);
    }
    const untilMs = nowMs + GATEWAY_KEY_GRACE_MS;
    for (const k of dropped) this.#retiring.set(k, untilMs);
    this.#published = next;
    const by = added.length > 0 ? added.join(', ') : 'no new key';
    for (const k of dropped)
      this.#log(`gateway key ${k} replaced by ${by}; ${k} accepted until ${new Date(untilMs).toISOString()}`);
    if (dropped.length === 0 && added.length > 0)
      this.#log(`serving requests forwarded by gateway ${added.join(', ')}`);
  }
}
