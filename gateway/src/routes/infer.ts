import type { Context } from 'hono';
import type { GatewayEnv } from '../auth.ts';
import { readJsonBody } from '../http-errors.ts';
import type { InferService } from '../infer/infer-service.ts';
import { hintsFromHeaders } from '../infer/infer-hints.ts';
import { TRACEPARENT_HEADER } from '@hexedge/protocol';

/** Response header saying what the response cache did: hit, miss, bypass (opted out) or uncacheable. */
export const CACHE_STATUS_HEADER = 'X-HexEdge-Cache';
import type { UsageBook } from '../usage.ts';

/** POST /v1/infer: the caller's key decides scopes and residency; the service does the rest. */
export function inferHandler(options: { service: InferService; usage: UsageBook }) {
  return async (c: Context<GatewayEnv>) => {
    const started = performance.now();
    const key = c.get('apiKey');
    let model = 'unknown';
    // The route's headers are checked here, not by a validator (openapi/mount-hot.ts): first, as a
    // validator would, and a refusal is not a metered request.
    const hints = hintsFromHeaders((name) => c.req.header(name), 'http');
    try {
      const body = await readJsonBody(c);
      c.set('inferBody', body);
      if (typeof (body as { model?: unknown })?.model === 'string')
        model = (body as { model: string }).model.slice(0, 128);
      const { response, replayed, cache, traceparent } = await options.service.infer(
        body,
        {
          id: key.id,
          tenant: `key:${key.id}`,
          ...(key.models ? { models: key.models } : {}),
          ...(key.region ? { region: key.region } : {}),
        },
        hints,
      );
      c.set('inferAnswer', response);
      if (cache) c.header(CACHE_STATUS_HEADER, cache);
      if (traceparent) c.header(TRACEPARENT_HEADER, traceparent);
      if (replayed) c.header('Idempotent-Replayed', 'true');
      else options.usage.record({ keyId: key.id, model, ok: true, latencyMs: performance.now() - started });
      return c.json(response);
    } catch (err) {
      options.usage.record({
        keyId: key.id,
        model,
        ok: false,
        code: (err as { code?: string }).code ?? 'INTERNAL',
        latencyMs: performance.now() - started,
      });
      throw err;
    }
  };
}
