import { MAX_DEADLINE_MS } from '@hexedge/protocol';
import type {
  Health,
  InferRequest,
  InferResponse,
  MethodOf,
  ModelCatalog,
  NearestNode,
  NodeDetail,
  NodeListPage,
  Operation,
  Path,
  PathParamsOf,
  QueryOf,
  RequestBody,
  SuccessBody,
  Usage,
} from './api-types.ts';
import { callDeadline, sleep, type CallDeadline } from './deadline.ts';
import { errorFromAnswer, HexEdgeApiError } from './errors.ts';
import { randomId } from './ids.ts';
import { backoffMs, DEFAULT_RETRY, parseRetryAfterMs, type RetryPolicy } from './retry.ts';

export interface CallOptions {
  /** The whole call's budget, retries and their waits included; past it: DEADLINE_EXCEEDED. */
  timeoutMs?: number;
  /** The caller's own cancellation: the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** This call's retry policy (merged over the client's), or false for one attempt only. */
  retry?: Partial<RetryPolicy> | false;
}

/** What `onRetry` is told before each wait. */
export interface RetryEvent {
  method: string;
  path: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  delayMs: number;
  status: number | undefined;
  code: string;
}

export interface ClientOptions {
  /** The gateway, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** The fetch to use (a Worker's service binding, an instrumented fetch); the global one by default. */
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy> | false;
  /** Default budget per call, ms (none by default). */
  timeoutMs?: number;
  onRetry?: (event: RetryEvent) => void;
}

type RequestOptions<O> = CallOptions & {
  query?: QueryOf<O>;
  params?: PathParamsOf<O>;
  body?: RequestBody<O>;
  /** Whether repeating the call is safe (default: true for GET, PUT and DELETE, false for POST). */
  idempotent?: boolean;
};

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

const SAFE_METHODS = new Set(['get', 'put', 'delete']);

/** JSON when it says so and is; otherwise the text (a proxy's error page), undefined when empty. */
function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  if (!(contentType ?? '').includes('json')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * A typed, fetch-based client of the HexEdge gateway for Node, browsers and Workers. Paths, parameters
 * and bodies are typed by the gateway's OpenAPI document (`request()`), with shortcuts for the calls an
 * app makes most. Retries are for calls that are safe to repeat only (see retry.ts); each call may
 * have a deadline that covers its retries.
 */
export class HexEdgeClient {
  readonly #baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #retry: RetryPolicy | false;
  readonly #timeoutMs: number | undefined;
  readonly #onRetry: ((event: RetryEvent) => void) | undefined;

  constructor(options: ClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#retry = options.retry === false ? false : { ...DEFAULT_RETRY, ...options.retry };
    this.#timeoutMs = options.timeoutMs;
    this.#onRetry = options.onRetry;
  }

  /**
   * Runs a model at the node nearest `request.location`. The request gets an `id` when it has none,
   * so a retry is answered with the first answer instead of a second inference; with a deadline, the
   * gateway is told it too (`policy.deadlineMs`), so it stops working on the request when you stop
   * waiting. Check the answer's receipt offline with `verifyReceipt`.
   */
  infer(request: InferRequest, options: CallOptions = {}): Promise<InferResponse> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const body: InferRequest = { ...request, id: request.id ?? randomId() };
    if (timeoutMs !== undefined && request.policy?.deadlineMs === undefined)
      body.policy = { ...request.policy, deadlineMs: Math.min(timeoutMs, MAX_DEADLINE_MS) };
    return this.request('post', '/v1/infer', { ...options, body, idempotent: true });
  }

  /** Healthy nodes nearest a location, nearest first (optionally only those serving `model`). */
  async nearest(
    query: { lat: number; lng: number; model?: string; k?: number },
    options: CallOptions = {},
  ): Promise<NearestNode[]> {
    return (await this.request('get', '/v1/nodes/nearest', { ...options, query })).nodes;
  }

  models(options: CallOptions = {}): Promise<ModelCatalog> {
    return this.request('get', '/v1/models', options);
  }

  node(id: string, options: CallOptions = {}): Promise<NodeDetail> {
    return this.request('get', '/v1/nodes/{id}', { ...options, params: { id } });
  }

  nodes(query: { limit?: number; after?: string } = {}, options: CallOptions = {}): Promise<NodeListPage> {
    return this.request('get', '/v1/nodes', { ...options, query });
  }

  usage(options: CallOptions = {}): Promise<Usage> {
    return this.request('get', '/v1/usage', options);
  }

  /** Readiness: `ok` and each part's state (answered as it is, 200 or 503). */
  async health(options: CallOptions = {}): Promise<Health> {
    const answer = await this.#call('get', '/healthz', { ...options, retry: false, accept: [200, 503] });
    return answer.body as Health;
  }

  /** Any route of the document, typed by it: `client.request('get', '/v1/nodes/{id}', { params: { id } })`. */
  async request<P extends Path, M extends MethodOf<P>>(
    method: M,
    path: P,
    options: RequestOptions<Operation<P, M>> = {},
  ): Promise<SuccessBody<Operation<P, M>>> {
    return (await this.#call(method, path, options)).body as SuccessBody<Operation<P, M>>;
  }

  async #call(
    method: string,
    path: string,
    options: CallOptions & {
      query?: unknown;
      params?: unknown;
      body?: unknown;
      idempotent?: boolean;
      accept?: number[];
    },
  ): Promise<Answer> {
    const deadline = callDeadline({
      timeoutMs: options.timeoutMs ?? this.#timeoutMs,
      signal: options.signal,
      nowMs: Date.now(),
    });
    const policy =
      options.retry === false || this.#retry === false ? false : { ...this.#retry, ...options.retry };
    const repeatable = options.idempotent ?? SAFE_METHODS.has(method);
    const url = this.#url(
      path,
      options.params as Record<string, string> | undefined,
      options.query as Record<string, unknown> | undefined,
    );
    for (let attempt = 1; ; attempt++) {
      let failure: HexEdgeApiError;
      try {
        const answer = await this.#attempt({ method, url, body: options.body, signal: deadline.signal });
        if (answer.status < 400 || options.accept?.includes(answer.status)) return answer;
        failure = errorFromAnswer({
          status: answer.status,
          body: answer.body,
          requestId: answer.headers.get('x-request-id'),
          retryAfterMs: parseRetryAfterMs(answer.headers.get('retry-after'), Date.now()),
        });
      } catch (err) {
        failure = this.#interrupted(err, deadline, options.timeoutMs ?? this.#timeoutMs);
      }
      const retryable =
        failure.code === 'NETWORK' ||
        (policy && failure.status !== undefined && policy.retryOn.includes(failure.status));
      if (!policy || !repeatable || !retryable || attempt >= policy.maxAttempts) throw failure;
      const delayMs = backoffMs({
        attempt,
        policy,
        ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
      });
      // Waiting past the deadline only to fail then: fail now, with what the gateway said.
      if (deadline.atMs !== undefined && Date.now() + delayMs >= deadline.atMs) throw failure;
      this.#onRetry?.({
        method: method.toUpperCase(),
        path,
        attempt,
        delayMs,
        status: failure.status,
        code: failure.code,
      });
      await sleep(delayMs, deadline.signal).catch((err: unknown) => {
        throw this.#interrupted(err, deadline, options.timeoutMs ?? this.#timeoutMs);
      });
    }
  }

  async #attempt(a: {
    method: string;
    url: string;
    body: unknown;
    signal: AbortSignal | undefined;
  }): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    if (a.body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.#fetch(a.url, {
      method: a.method.toUpperCase(),
      headers,
      ...(a.body !== undefined ? { body: JSON.stringify(a.body) } : {}),
      ...(a.signal ? { signal: a.signal } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: parseBody(text, res.headers.get('content-type')),
    };
  }

  /** An attempt that threw: the caller's abort (rethrown as is), the deadline, or the network. */
  #interrupted(err: unknown, deadline: CallDeadline, timeoutMs: number | undefined): HexEdgeApiError {
    if (deadline.expired())
      return new HexEdgeApiError({
        code: 'DEADLINE_EXCEEDED',
        message: `no answer within the call's deadline of ${timeoutMs} ms`,
        cause: err,
      });
    if (deadline.signal?.aborted) throw deadline.signal.reason;
    if (err instanceof HexEdgeApiError) return err;
    return new HexEdgeApiError({
      code: 'NETWORK',
      message: `could not reach the gateway at ${this.#baseUrl}: ${(err as Error).message}`,
      cause: err,
    });
  }

  #url(
    path: string,
    params: Record<string, string> | undefined,
    query: Record<string, unknown> | undefined,
  ): string {
    const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = params?.[name];
      if (value === undefined) throw new TypeError(`path parameter ${name} of ${path} is missing`);
      return encodeURIComponent(String(value));
    });
    const url = new URL(this.#baseUrl + filled);
    for (const [name, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    return url.href;
  }
}

export const createClient = (options: ClientOptions): HexEdgeClient => new HexEdgeClient(options);
