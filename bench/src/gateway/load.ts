/**
 * Load with per-request latencies, on the inference suite's undici Pools (keep-alive, no pipelining):
 * closed-loop clients (each sends, reads the whole answer, sends again) and one-at-a-time blocks.
 * Any answer other than 200 throws, so a failing front end cannot look fast.
 */
import type { Pool } from 'undici';
import type { HttpRequestSpec } from '../inference/http-load.ts';
import { percentile } from '../report.ts';

export interface LatencyResult {
  count: number;
  /** Completed requests per second (closed loop); NaN for one-at-a-time blocks. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
}

interface Prepared {
  body: Uint8Array | undefined;
  headers: Record<string, string>;
}

/**
 * Request i's body and headers; a fresh forward (`request.fresh`: its own id and forward MAC, a few µs)
 * is made here, before the request's clock starts, so the rows time what they timed with pre-made
 * headers: the peer's round trip. The making costs this process only, which no row measures.
 */
function prepare(request: HttpRequestSpec, i: number): Prepared | Promise<Prepared> {
  if (!request.fresh) {
    const body = request.bodies.length ? request.bodies[i % request.bodies.length] : undefined;
    return { body, headers: request.headers };
  }
  const made = request.fresh(i);
  const withFresh = (f: { body: Uint8Array; headers: Record<string, string> }) => ({
    body: f.body,
    headers: { ...request.headers, ...f.headers },
  });
  return made instanceof Promise ? made.then(withFresh) : withFresh(made);
}

async function send(pool: Pool, request: HttpRequestSpec, prepared: Prepared): Promise<string> {
  const { body, headers } = prepared;
  const res = await pool.request({ method: request.method, path: request.path, body, headers });
  const text = await res.body.text();
  if (res.statusCode !== 200)
    throw new Error(`${request.path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return text;
}

const summary = (ms: number[], rate: number): LatencyResult => {
  const sorted = Float64Array.from(ms).sort();
  return { count: ms.length, rate, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
};

/** `concurrency` closed-loop clients for about `durationMs`. */
export async function closedLoop(options: {
  pool: Pool;
  request: HttpRequestSpec;
  concurrency: number;
  durationMs: number;
}): Promise<LatencyResult> {
  const { pool, request } = options;
  const ms: number[] = [];
  let sent = 0;
  const t0 = performance.now();
  const end = t0 + options.durationMs;
  const client = async () => {
    while (performance.now() < end) {
      const made = prepare(request, sent++);
      const prepared = made instanceof Promise ? await made : made;
      const t = performance.now();
      await send(pool, request, prepared);
      ms.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return summary(ms, ms.length / ((performance.now() - t0) / 1000));
}

/** `count` requests one after another on one connection; `onAnswer` sees each body (off the clock). */
export async function oneAtATime(options: {
  pool: Pool;
  request: HttpRequestSpec;
  count: number;
  onAnswer?: (text: string, ms: number) => void;
}): Promise<LatencyResult> {
  const ms: number[] = [];
  for (let i = 0; i < options.count; i++) {
    const made = prepare(options.request, i);
    const prepared = made instanceof Promise ? await made : made;
    const t = performance.now();
    const text = await send(options.pool, options.request, prepared);
    const elapsed = performance.now() - t;
    ms.push(elapsed);
    options.onAnswer?.(text, elapsed);
  }
  return summary(ms, Number.NaN);
}
