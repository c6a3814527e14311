import { HexEdgeError, MAX_NODE_ANSWER_BYTES } from '@hexedge/protocol';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Pool } from 'undici';
import { decodeNodeAnswer, HEADER_LENGTH_HEADER } from '../infer/binary-tensors.ts';
import type { NodeClient } from '../infer/node-client.ts';
import { isForbiddenNodeAddress } from '../node-urls.ts';

/** Keep-alive connections per node; enough for the dynamic batcher to see concurrent requests. */
const CONNECTIONS_PER_NODE = 32;
/** Idle pools are closed after this long, so nodes that left do not keep sockets open. */
const IDLE_POOL_MS = 60_000;

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;
/** Resolves every address of a name (dns.lookup with `all: true`; tests inject a fake DNS). */
type ResolveAll = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * `net.connect`'s lookup that refuses loopback, private, link-local, unique-local and metadata
 * addresses: checked when the connection is made, after DNS, so a node name that resolved to a public
 * address at registration cannot be pointed at the gateway's own network later (DNS rebinding).
 */
export const publicOnlyLookup =
  (resolveAll: ResolveAll = dnsLookup as ResolveAll): Lookup =>
  (hostname, options, callback) => {
    resolveAll(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const bad = addresses.find((a) => isForbiddenNodeAddress(a.address));
      if (bad) {
        const refused = Object.assign(
          new Error(`node host ${hostname} resolves to ${bad.address}, a private or loopback address`),
          { code: 'EFORBIDDENADDR' },
        );
        return callback(refused, []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

/**
 * The gateway's Node HTTP client: an undici `Pool` of keep-alive connections per node origin, with
 * pipelining off (nodes answer in order anyway) and TCP no-delay. Measured ~2× faster here than the
 * global `fetch`, which pays for its WHATWG streams on every call. Answers are read up to
 * `maxAnswerBytes` (past it the connection is dropped: a node cannot make the gateway buffer a giant
 * body), and unless `allowPrivateAddresses`, connections go only to public addresses.
 */
export class PooledNodeClient implements NodeClient {
  readonly #pools = new Map<string, { pool: Pool; lastUsedMs: number }>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #allowPrivate: boolean;
  readonly #maxAnswerBytes: number;
  readonly #lookup: Lookup;

  /** `resolveAll`: the DNS to resolve node names with (dns.lookup; tests inject their own). */
  constructor(
    options: { allowPrivateAddresses?: boolean; maxAnswerBytes?: number; resolveAll?: ResolveAll } = {},
  ) {
    this.#allowPrivate = options.allowPrivateAddresses ?? false;
    this.#maxAnswerBytes = options.maxAnswerBytes ?? MAX_NODE_ANSWER_BYTES;
    this.#lookup = publicOnlyLookup(options.resolveAll);
    this.#sweeper = setInterval(() => this.#closeIdle(), IDLE_POOL_MS);
    this.#sweeper.unref();
  }

  async post({
    url,
    body,
    signal,
    headers,
  }: {
    url: string;
    body: string | Uint8Array;
    signal: AbortSignal;
    headers?: Record<string, string>;
  }) {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    // A literal address never goes through the lookup: checked here.
    if (!this.#allowPrivate && isIP(host) && isForbiddenNodeAddress(host)) {
      throw new HexEdgeError('FORBIDDEN', `node address ${host} is private or loopback`);
    }
    let entry = this.#pools.get(u.origin);
    if (!entry) {
      entry = {
        pool: new Pool(u.origin, {
          connections: CONNECTIONS_PER_NODE,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          ...(this.#allowPrivate ? {} : { connect: { lookup: this.#lookup } }),
        }),
        lastUsedMs: 0,
      };
      this.#pools.set(u.origin, entry);
    }
    entry.lastUsedMs = Date.now();
    const res = await entry.pool.request({
      method: 'POST',
      path: u.pathname + u.search,
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal,
    });
    const headerLength = res.headers[HEADER_LENGTH_HEADER];
    return {
      status: res.statusCode,
      body: decodeNodeAnswer(
        await this.#readCapped(res),
        typeof headerLength === 'string' ? headerLength : undefined,
      ),
    };
  }

  async #readCapped(res: Awaited<ReturnType<Pool['request']>>): Promise<Uint8Array> {
    const max = this.#maxAnswerBytes;
    const tooLarge = () => new HexEdgeError('PAYLOAD_TOO_LARGE', `node answer exceeds ${max} bytes`);
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > max) {
      res.body.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) {
        res.body.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  }

  #closeIdle(): void {
    const now = Date.now();
    for (const [origin, e] of this.#pools) {
      if (now - e.lastUsedMs > IDLE_POOL_MS) {
        this.#pools.delete(origin);
        void e.pool.close();
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#pools.values()].map((e) => e.pool.close()));
    this.#pools.clear();
  }
}
