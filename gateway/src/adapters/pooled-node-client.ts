import { Pool } from 'undici';
import { parseJson, type NodeClient } from '../infer/node-client.ts';

/** Keep-alive connections per node; enough for the dynamic batcher to see concurrent requests. */
const CONNECTIONS_PER_NODE = 32;
/** Idle pools are closed after this long, so nodes that left do not keep sockets open. */
const IDLE_POOL_MS = 60_000;

/**
 * The gateway's Node HTTP client: an undici `Pool` of keep-alive connections per node origin, with
 * pipelining off (nodes answer in order anyway) and TCP no-delay. Measured ~2× faster here than the
 * global `fetch`, which pays for its WHATWG streams on every call.
 */
export class PooledNodeClient implements NodeClient {
  readonly #pools = new Map<string, { pool: Pool; lastUsedMs: number }>();
  readonly #sweeper: ReturnType<typeof setInterval>;

  constructor() {
    this.#sweeper = setInterval(() => this.#closeIdle(), IDLE_POOL_MS);
    this.#sweeper.unref();
  }

  async post({ url, body, signal, headers }: { url: string; body: string; signal: AbortSignal; headers?: Record<string, string> }) {
    const u = new URL(url);
    let entry = this.#pools.get(u.origin);
    if (!entry) {
      entry = { pool: new Pool(u.origin, { connections: CONNECTIONS_PER_NODE, pipelining: 1, keepAliveTimeout: 30_000 }), lastUsedMs: 0 };
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
    return { status: res.statusCode, body: parseJson(await res.body.text()) };
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
