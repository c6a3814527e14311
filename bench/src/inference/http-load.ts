/**
 * Closed-loop HTTP clients over an undici Pool: real sockets to 127.0.0.1, keep-alive, one request in
 * flight per connection (no pipelining). Each of `concurrency` clients sends, reads the whole answer,
 * and sends again, so offered load follows the server's pace, as with devices awaiting their answer.
 */
import { Pool } from 'undici';

export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  path: string;
  /** Cycled through, one per request (prebuilt, so the client spends little CPU); none for GET. */
  bodies: readonly Uint8Array[];
  headers: Record<string, string>;
  /**
   * Request i's own body and headers (on top of `headers`), made as it is sent, instead of `bodies`:
   * a fresh forward for a node, which refuses one it served already (gateway/forward-headers.ts).
   */
  fresh?: (
    i: number,
  ) =>
    | { body: Uint8Array; headers: Record<string, string> }
    | Promise<{ body: Uint8Array; headers: Record<string, string> }>;
}

export function openPool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
}

/** Requests per second over `durationMs` with `concurrency` clients; any non-200 answer throws. */
export async function closedLoopRate(options: {
  pool: Pool;
  request: HttpRequestSpec;
  concurrency: number;
  durationMs: number;
}): Promise<number> {
  const { pool, request, concurrency } = options;
  let sent = 0;
  let done = 0;
  const t0 = performance.now();
  const end = t0 + options.durationMs;
  const client = async () => {
    while (performance.now() < end) {
      const body = request.bodies.length ? request.bodies[sent++ % request.bodies.length] : undefined;
      const res = await pool.request({
        method: request.method,
        path: request.path,
        body,
        headers: request.headers,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200)
        throw new Error(`${request.path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return done / ((performance.now() - t0) / 1000);
}

/** One request; returns the status and whole body (read before the caller's clock stops). */
export async function postOnce(options: {
  pool: Pool;
  path: string;
  body: Uint8Array | string;
  headers: Record<string, string>;
}) {
  const res = await options.pool.request({
    method: 'POST',
    path: options.path,
    body: options.body,
    headers: options.headers,
  });
  return { status: res.statusCode, headers: res.headers, body: new Uint8Array(await res.body.arrayBuffer()) };
}
