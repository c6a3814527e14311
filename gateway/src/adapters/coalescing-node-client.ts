import {
  decodeExchangeAnswer,
  encodeExchange,
  exchangePartBytes,
  FORWARD_MAC_ACCEPTED_HEADER,
  FORWARD_MAC_VERSION,
  MAX_EXCHANGE_BYTES,
  MAX_EXCHANGE_PART_BODY_BYTES,
  MAX_EXCHANGE_PARTS,
} from '@hexedge/protocol';
import { decodeNodeAnswer, HEADER_LENGTH_HEADER } from '../infer/binary-tensors.ts';
import type { NodeAnswer, NodeClient } from '../infer/node-client.ts';
import type { PooledNodeClient } from './pooled-node-client.ts';

/**
 * Forwards (single posts or exchanges) in flight per node before further posts queue for an exchange.
 * Concurrency up to K is untouched (each post alone, at once); above it, posts ride exchanges. Measured
 * with `npm run bench -- gateway` (full, 32 clients, one comfort-index node, this shared 2-core
 * machine, back to back; gateway/proxy throughput, gateway CPU per request, node CPU per request):
 * no coalescing 0.63×, 350 µs, 189 µs; K = 1: 0.77×, 211 µs, 104 µs (~17 parts an exchange);
 * K = 2: 0.83×, 285 µs, 145 µs (~15 parts); K = 4: 0.73×, 282 µs, 169 µs. K = 1 costs the least CPU but
 * serializes a node's link: two closed-loop callers would take turns, each waiting for the other's
 * round trip. K = 2 keeps two callers as fast as before, lets one exchange form at the node's
 * batcher while the other runs, and measured best.
 */
export const DEFAULT_MAX_IN_FLIGHT_PER_NODE = 2;
/** Node origins whose state is kept; idle ones are forgotten past it (they learn again from one answer). */
const MAX_ORIGINS = 4096;

type PostOptions = Parameters<NodeClient['post']>[0];
/** What the coalescing client uses of the pooled one (tests give a stand-in transport). */
export type ExchangeTransport = Pick<PooledNodeClient, 'targetOf' | 'postDetailed' | 'exchange'>;

/** A post waiting for the next exchange to its node. */
interface Queued {
  options: PostOptions;
  path: string;
  headers: Record<string, string>;
  sizeBytes: number;
  resolve(answer: NodeAnswer): void;
  reject(err: unknown): void;
  /** Set once sent or settled: an abort then only settles the caller's promise. */
  done: boolean;
  onAbort: () => void;
}

interface OriginState {
  origin: string;
  inFlight: number;
  queue: Queued[];
  /** The node's last successful answer said it serves exchanges. */
  speaks: boolean;
}

/**
 * The gateway's Node client with coalescing (issue 19): per node origin, while fewer than
 * `maxInFlightPerNode` forwards are in flight a post goes at once, alone, as before (a caller at
 * concurrency 1 pays nothing); beyond that, posts queue, and when a forward completes the queued ones
 * go as ONE exchange (protocol's exchange.ts, `POST /v2/exchange`, up to MAX_EXCHANGE_PARTS and
 * MAX_EXCHANGE_BYTES), which the node serves part by part as it would alone. Only to nodes whose
 * answers say they serve exchanges, and only parts of at most MAX_EXCHANGE_PART_BODY_BYTES (larger
 * ones go alone). Each caller gets exactly the NodeAnswer it would have got alone (status, decoded
 * body, acceptsForwardMac), so signing, receipt checks, failover, hedging, resends and metrics are
 * unchanged. A caller aborted while queued leaves the queue; one aborted after sending is answered
 * with its abort at once and its part ignored. A transport error fails every part of that exchange as
 * it fails a single post; an exchange the node refuses whole (an older version back in its place)
 * marks the node as not speaking exchanges and its parts go again, each alone (none was served).
 */
export class CoalescingNodeClient implements NodeClient {
  readonly #client: ExchangeTransport;
  readonly #maxInFlight: number;
  readonly #onExchange: ((parts: number) => void) | undefined;
  readonly #origins = new Map<string, OriginState>();

  constructor(options: {
    client: ExchangeTransport;
    maxInFlightPerNode?: number;
    /** Each exchange sent, with its part count (metrics, tests). */
    onExchange?: (parts: number) => void;
  }) {
    this.#client = options.client;
    this.#maxInFlight = options.maxInFlightPerNode ?? DEFAULT_MAX_IN_FLIGHT_PER_NODE;
    this.#onExchange = options.onExchange;
  }

  post(options: PostOptions): Promise<NodeAnswer> {
    const target = this.#client.targetOf(options.url);
    const state = this.#stateOf(target.origin);
    const { body } = options;
    if (
      !state.speaks ||
      state.inFlight < this.#maxInFlight ||
      target.forbiddenHost !== undefined ||
      (typeof body === 'string' ? body.length * 3 : body.length) > MAX_EXCHANGE_PART_BODY_BYTES
    )
      return this.#direct(state, options);
    const { signal } = options;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<NodeAnswer>((resolve, reject) => {
      // The part's headers as the single post sends them (its content type unless the caller's).
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const name in options.headers) headers[name.toLowerCase()] = options.headers[name]!;
      const queued: Queued = {
        options,
        path: target.path,
        headers,
        sizeBytes: 0,
        resolve,
        reject,
        done: false,
        onAbort: () => {
          if (queued.done) return;
          queued.done = true;
          const at = state.queue.indexOf(queued);
          if (at >= 0) state.queue.splice(at, 1);
          reject(signal.reason);
        },
      };
      queued.sizeBytes = exchangePartBytes({ path: target.path, headers, body });
      signal.addEventListener('abort', queued.onAbort, { once: true });
      state.queue.push(queued);
    });
  }

  #stateOf(origin: string): OriginState {
    let state = this.#origins.get(origin);
    if (state === undefined) {
      if (this.#origins.size >= MAX_ORIGINS)
        for (const [o, s] of this.#origins)
          if (s.inFlight === 0 && s.queue.length === 0) this.#origins.delete(o);
      state = { origin, inFlight: 0, queue: [], speaks: false };
      this.#origins.set(origin, state);
    }
    return state;
  }

  /** One post alone, as the pooled client sends it; learns whether the node speaks exchanges. */
  async #direct(state: OriginState, options: PostOptions): Promise<NodeAnswer> {
    state.inFlight++;
    try {
      const { answer, acceptsExchange } = await this.#client.postDetailed(options);
      // An error answer says nothing either way (it carries no advertisements); a success does.
      if (acceptsExchange) state.speaks = true;
      else if (answer.status >= 200 && answer.status < 300) state.speaks = false;
      return answer;
    } finally {
      state.inFlight--;
      this.#pump(state);
    }
  }

  /** Sends what queued while fewer than the limit are in flight: one exchange (or one post) at a time. */
  #pump(state: OriginState): void {
    while (state.inFlight < this.#maxInFlight && state.queue.length > 0) {
      const batch: Queued[] = [];
      let sizeBytes = 6;
      while (batch.length < MAX_EXCHANGE_PARTS && state.queue.length > 0) {
        const next = state.queue[0]!;
        if (batch.length > 0 && sizeBytes + next.sizeBytes > MAX_EXCHANGE_BYTES) break;
        sizeBytes += next.sizeBytes;
        batch.push(state.queue.shift()!);
      }
      for (const q of batch) q.options.signal.removeEventListener('abort', q.onAbort);
      if (batch.length === 1 || !state.speaks) for (const q of batch) this.#alone(state, q);
      else void this.#exchange(state, batch);
    }
  }

  /** A queued post sent alone after all (a batch of one, or the node stopped speaking exchanges). */
  #alone(state: OriginState, q: Queued): void {
    q.done = true;
    if (q.options.signal.aborted) return q.reject(q.options.signal.reason);
    this.#direct(state, q.options).then(q.resolve, q.reject);
  }

  async #exchange(state: OriginState, batch: Queued[]): Promise<void> {
    let body: Uint8Array;
    try {
      body = encodeExchange(batch.map((q) => ({ path: q.path, headers: q.headers, body: q.options.body })));
    } catch {
      // A part the framing cannot carry (a non-ASCII header value): each goes alone, as before.
      for (const q of batch) this.#alone(state, q);
      return;
    }
    state.inFlight++;
    // The exchange is aborted only when every caller in it gave up; until then each abort settles its own.
    const controller = new AbortController();
    let live = batch.length;
    const aborts = batch.map((q) => {
      q.done = true;
      const onAbort = () => {
        q.reject(q.options.signal.reason);
        if (--live === 0) controller.abort(q.options.signal.reason);
      };
      if (q.options.signal.aborted) onAbort();
      else q.options.signal.addEventListener('abort', onAbort, { once: true });
      return onAbort;
    });
    const detach = () => batch.forEach((q, i) => q.options.signal.removeEventListener('abort', aborts[i]!));
    this.#onExchange?.(batch.length);
    try {
      const answer = await this.#client.exchange({ origin: state.origin, body, signal: controller.signal });
      detach();
      if (answer.status !== 200) {
        // Refused whole (so nothing in it was served): the node no longer takes exchanges; each alone.
        state.speaks = false;
        for (const q of batch)
          if (!q.options.signal.aborted) this.#direct(state, q.options).then(q.resolve, q.reject);
        return;
      }
      state.speaks = answer.acceptsExchange;
      const parts = decodeExchangeAnswer(answer.bytes, batch.length);
      batch.forEach((q, i) => {
        const part = parts[i]!;
        q.resolve({
          status: part.status,
          body: decodeNodeAnswer(part.body, part.headers[HEADER_LENGTH_HEADER]),
          ...(part.headers[FORWARD_MAC_ACCEPTED_HEADER] === FORWARD_MAC_VERSION
            ? { acceptsForwardMac: true }
            : {}),
        });
      });
    } catch (err) {
      detach();
      for (const q of batch) q.reject(err);
    } finally {
      state.inFlight--;
      this.#pump(state);
    }
  }
}
