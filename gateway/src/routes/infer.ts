import type { Context } from 'hono';
import type { GatewayEnv } from '../auth.ts';
import { readJsonBody } from '../http-errors.ts';
import type { InferService } from '../infer/infer-service.ts';
import { hintsFromHeaders } from '../infer/infer-hints.ts';
import { TRACEPARENT_HEADER, type InferResponse } from '@hexedge/protocol';
import type { ApiKeyRecord } from '../keys/key-store.ts';

/** Response header saying what the response cache did: hit, miss, bypass (opted out) or uncacheable. */
export const CACHE_STATUS_HEADER = 'X-HexEdge-Cache';
import type { UsageBook } from '../usage.ts';

/** One POST /v1/infer after its key is checked and metered: what the hono route and the Node listener's direct path give. */
export interface InferCall {
  key: ApiKeyRecord;
  /** A request header as `Headers.get` reads it. */
  header: (name: string) => string | undefined;
  /** The body parsed as JSON; INVALID_JSON when it is not. */
  readJson: () => Promise<unknown>;
  /** Filled as the call goes, for the dashboards' observer: the parsed body (also when refused after parsing), the answer. */
  seen: { body?: unknown; answer?: InferResponse };
}

/**
 * POST /v1/infer: the caller's key decides scopes and residency; the service does the rest. The one
 * handler of the route: hono's (`inferHandler`) and the Node listener's direct path both call it.
 */
export function inferCall(options: { service: InferService; usage: UsageBook }) {
  return async (call: InferCall): Promise<{ response: InferResponse; headers: Record<string, string> }> => {
    const started = performance.now();
    const { key } = call;
    let model = 'unknown';
    // The route's headers are checked here, not by a validator (openapi/mount-hot.ts): first, as a
    // validator would, and a refusal is not a metered request.
    const hints = hintsFromHeaders(call.header, 'http');
    try {
      const body = await call.readJson();
      call.seen.body = body;
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
      call.seen.answer = response;
      const headers: Record<string, string> = {};
      if (cache) headers[CACHE_STATUS_HEADER] = cache;
      if (traceparent) headers[TRACEPARENT_HEADER] = traceparent;
      if (replayed) headers['Idempotent-Replayed'] = 'true';
      else options.usage.record({ keyId: key.id, model, ok: true, latencyMs: performance.now() - started });
      return { response, headers };
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

/** The hono route's handler: `inferCall` on the context's key, headers and body. */
export function inferHandler(options: { service: InferService; usage: UsageBook }) {
  const run = inferCall(options);
  return async (c: Context<GatewayEnv>) => {
    const seen: InferCall['seen'] = {};
    try {
      const { response, headers } = await run({
        key: c.get('apiKey'),
        header: (name) => c.req.header(name),
        readJson: () => readJsonBody(c),
        seen,
      });
      for (const name in headers) c.header(name, headers[name]!);
      return c.json(response);
    } finally {
      if ('body' in seen) c.set('inferBody', seen.body);
      if (seen.answer) c.set('inferAnswer', seen.answer);
    }
  };
}
