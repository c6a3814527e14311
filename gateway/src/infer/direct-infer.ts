import { HexEdgeError } from '@hexedge/protocol';
import { bearerKey, rateLimitHeaders, retryHeaders } from '../auth.ts';
import { errorOf } from '../http-errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { ApiKeyRecord } from '../keys/key-store.ts';
import type { KeyLimiter } from '../keys/rate-limit.ts';
import type { httpObservations } from '../observe.ts';
import type { inferRecorder } from '../routes/dashboard-keys.ts';
import { CACHE_STATUS_HEADER, type InferCall, type inferCall } from '../routes/infer.ts';

/** One POST /v1/infer as a server hands it over: its headers and a way to read its (declared-length) body. */
export interface DirectInferRequest {
  /** A request header as `Headers.get` reads it (repeats joined with ", "), undefined when absent. */
  header: (name: string) => string | undefined;
  /** The body's bytes; rejects when the body ends early. */
  readBody: () => Promise<Uint8Array>;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface DirectInferRoute {
  infer(request: DirectInferRequest): Promise<HttpAnswer>;
}

const routes = new WeakMap<object, DirectInferRoute>();
/** The app's POST /v1/infer as a direct route, when `createGatewayApp` made the app. */
export const directInferRoute = (app: object): DirectInferRoute | undefined => routes.get(app);

/** hono's requestId middleware's rule for a caller's id (hono/request-id, limitLength 255). */
const REQUEST_ID_CHARS = /[^\w\-=]/;
const REQUEST_ID_MAX_CHARS = 255;
const decoder = new TextDecoder();

/**
 * POST /v1/infer without hono: the steps the app's chain applies to that route, in its order, through
 * the same functions — request id (hono's requestId rule), CORS answer headers (cors.ts), the access
 * observation (observe.ts), the dashboards' watch (observeInfer), API key and meter (requireApiKey),
 * the declared body limit (body-limit.ts), the handler (`inferCall`), error bodies (`errorOf`) — so a
 * caller gets the same status, headers and body either way. The server decides which requests come
 * here (POST /v1/infer with a declared Content-Length; node/infer-listener.ts); all others go to hono.
 */
export function registerDirectInfer(
  app: object,
  o: {
    keys: KeyRing;
    limiter: KeyLimiter;
    infer: ReturnType<typeof inferCall>;
    maxBodyBytes: number;
    /** `Access-Control-Expose-Headers` (publicCors's, joined). */
    exposeHeaders: string;
    observed: ReturnType<typeof httpObservations>;
    recordInfer?: ReturnType<typeof inferRecorder>;
  },
): void {
  const readJson = async (request: DirectInferRequest): Promise<unknown> => {
    try {
      // As hono's c.req.json(): UTF-8 decoded (a BOM dropped, bad bytes replaced), then JSON.parse.
      return JSON.parse(decoder.decode(await request.readBody()));
    } catch {
      throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
    }
  };
  routes.set(app, {
    async infer(request) {
      const started = performance.now();
      let requestId = request.header('x-request-id');
      if (!requestId || requestId.length > REQUEST_ID_MAX_CHARS || REQUEST_ID_CHARS.test(requestId))
        requestId = crypto.randomUUID();
      const headers: Record<string, string> = { 'X-Request-Id': requestId };
      let key: ApiKeyRecord | undefined;
      const seen: InferCall['seen'] = {};
      let status: number;
      let body: string;
      let errorBody: ReturnType<typeof errorOf>['body'] | undefined;
      try {
        const record = await o.keys.authenticate(bearerKey(request.header('authorization')));
        try {
          Object.assign(headers, rateLimitHeaders(record, await o.limiter.take(record)));
        } catch (err) {
          if (err instanceof HexEdgeError) Object.assign(headers, retryHeaders(err));
          throw err;
        }
        key = record;
        if (Number(request.header('content-length')) > o.maxBodyBytes)
          throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${o.maxBodyBytes} bytes`);
        const answer = await o.infer({
          key,
          header: request.header,
          readJson: () => readJson(request),
          seen,
        });
        Object.assign(headers, answer.headers);
        status = 200;
        body = JSON.stringify(answer.response);
      } catch (err) {
        const { error, body: answer } = errorOf(err, requestId);
        Object.assign(headers, retryHeaders(error));
        status = error.httpStatus;
        errorBody = answer;
        body = JSON.stringify(answer);
      }
      headers['content-type'] = 'application/json';
      if (o.recordInfer && key && !headers['Idempotent-Replayed'])
        o.recordInfer({
          key,
          body: seen.body,
          answer: seen.answer ?? errorBody,
          status,
          cacheStatus: headers[CACHE_STATUS_HEADER] ?? null,
          startedMs: started,
        });
      o.observed({
        route: '/v1/infer',
        method: 'POST',
        path: '/v1/infer',
        status,
        startedMs: started,
        requestId,
        keyId: key?.id,
      });
      headers['Access-Control-Allow-Origin'] = '*';
      if (o.exposeHeaders) headers['Access-Control-Expose-Headers'] = o.exposeHeaders;
      return { status, headers, body };
    },
  });
}
