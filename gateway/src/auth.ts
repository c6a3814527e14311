import { HexEdgeError, type InferResponse } from '@hexedge/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import type { KeyRing } from './keys/key-ring.ts';
import type { ApiKeyRecord } from './keys/key-store.ts';
import type { KeyLimiter, RateDecision } from './keys/rate-limit.ts';

export type GatewayEnv = {
  Variables: {
    apiKey: ApiKeyRecord;
    requestId: string;
    /** POST /v1/infer's parsed body and answer, for the dashboards' observer (it need not parse them again). */
    inferBody?: unknown;
    inferAnswer?: InferResponse;
  };
};

const BEARER = /^Bearer ([\x21-\x7e]{1,256})$/;

/** The bearer key of a request, or UNAUTHORIZED explaining what is wrong with the header. */
export function bearerKey(header: string | undefined): string {
  if (!header)
    throw new HexEdgeError(
      'UNAUTHORIZED',
      'missing Authorization header; send "Authorization: Bearer <api key>"',
    );
  const match = BEARER.exec(header);
  if (!match) throw new HexEdgeError('UNAUTHORIZED', 'Authorization header must be "Bearer <api key>"');
  return match[1]!;
}

/**
 * Authenticates the key, applies its rate limit and quota, and sets the IETF `RateLimit-*` headers.
 * The key itself goes no further than this function: handlers see only its record (id, scopes).
 * `metered: false` authenticates without counting (reading your own usage must work over quota).
 */
export function requireApiKey(options: {
  keys: KeyRing;
  limiter: KeyLimiter;
  role?: 'admin';
  metered?: boolean;
}): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const record = await options.keys.authenticate(bearerKey(c.req.header('authorization')));
    if (options.role === 'admin' && record.role !== 'admin')
      throw new HexEdgeError('FORBIDDEN', `API key ${record.id} is not an admin key`);
    if (options.metered === false) {
      c.set('apiKey', record);
      return next();
    }
    try {
      const headers = rateLimitHeaders(record, await options.limiter.take(record));
      for (const name in headers) c.header(name, headers[name]!);
    } catch (err) {
      if (err instanceof HexEdgeError) setRetryHeaders(c, err);
      throw err;
    }
    c.set('apiKey', record);
    await next();
  };
}

/** The IETF `RateLimit-*` headers of a granted request (shared with the Node listener's direct infer path). */
export function rateLimitHeaders(record: ApiKeyRecord, d: RateDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(d.limit),
    'RateLimit-Remaining': String(d.remaining),
    'RateLimit-Reset': String(d.resetSeconds),
    'RateLimit-Policy': `${record.burst};w=${Math.ceil(record.burst / record.ratePerSecond)}`,
  };
}

/** `Retry-After` (and `RateLimit-Remaining: 0`) for errors that say when to come back; none for others. */
export function retryHeaders(err: HexEdgeError): Record<string, string> | undefined {
  const retryAfterMs = err.details?.retryAfterMs;
  if (typeof retryAfterMs !== 'number') return undefined;
  const headers: Record<string, string> = {
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
  };
  if (err.code === 'RATE_LIMITED') headers['RateLimit-Remaining'] = '0';
  return headers;
}

/** `retryHeaders` set on the answer. */
export function setRetryHeaders(c: Context, err: HexEdgeError): void {
  const headers = retryHeaders(err);
  for (const name in headers) c.header(name, headers[name]!);
}
