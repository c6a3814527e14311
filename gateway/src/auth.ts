import { HexEdgeError, type InferResponse } from '@hexedge/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import type { KeyRing } from './keys/key-ring.ts';
import type { ApiKeyRecord } from './keys/key-store.ts';
import type { KeyLimiter } from './keys/rate-limit.ts';

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
      const d = await options.limiter.take(record);
      c.header('RateLimit-Limit', String(d.limit));
      c.header('RateLimit-Remaining', String(d.remaining));
      c.header('RateLimit-Reset', String(d.resetSeconds));
      c.header('RateLimit-Policy', `${record.burst};w=${Math.ceil(record.burst / record.ratePerSecond)}`);
    } catch (err) {
      if (err instanceof HexEdgeError) setRetryHeaders(c, err);
      throw err;
    }
    c.set('apiKey', record);
    await next();
  };
}

/** `Retry-After` (and `RateLimit-Remaining: 0`) for errors that say when to come back. */
export function setRetryHeaders(c: Context, err: HexEdgeError): void {
  const retryAfterMs = err.details?.retryAfterMs;
  if (typeof retryAfterMs !== 'number') return;
  c.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  if (err.code === 'RATE_LIMITED') c.header('RateLimit-Remaining', '0');
}
