import {
  checkTensor,
  HexEdgeError,
  newTraceContext,
  type Priority,
  type TraceContext,
  type InferRequest,
  type InferResponse,
  type PlacementPolicy,
} from '@hexedge/protocol';
import type { NodeRecord } from '@hexedge/placement';
import { resolveLocation } from '../location.ts';
import { parseInferRequest } from './request-shape.ts';
import { answerAsJson, toWireTensor } from './binary-tensors.ts';
import type { CacheOutcome } from '../cache/infer-cache.ts';
import { RequestTrace } from '../trace/request-trace.ts';
import type { TraceBook } from '../trace/trace-book.ts';
import { hintHeadersFor, withHints, type InferHints } from './infer-hints.ts';
import { noObserver, type GatewayObserver } from '../observe.ts';
import { IdempotencyCache } from './idempotency.ts';
import { InFlightLimiter } from './in-flight.ts';
import type { NodeAnswer } from './node-client.ts';
import { NodeForwarder } from './node-forwarder.ts';
import { RequestPlacer } from './request-placer.ts';
import type { RequestContext } from './request-context.ts';
import type { PlaceFn, VersionRouter } from '../rollouts/version-router.ts';
import type { Caller, InferServiceOptions, PlacementPort, RerunRequest } from './infer-ports.ts';

const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
const IDEMPOTENCY_MAX_ENTRIES = 10_000;

/**
 * The gateway's one inference path, shared by HTTP and MQTT: validate, authorise the model, place,
 * forward along the failover list within the deadline (optionally hedged), check the node's receipt,
 * answer. A retried request id within the window gets the first answer, not a second inference.
 */
export class InferService {
  readonly #placement: PlacementPort;
  readonly #log: (m: string) => void;
  readonly #onAnswered: InferServiceOptions['onAnswered'];
  readonly #inFlight: InFlightLimiter;
  readonly #observer: GatewayObserver;
  readonly #traces: TraceBook | undefined;
  readonly #versions: VersionRouter | undefined;
  /** The node side: catalogue check, signed send, answer and receipt check (node-forwarder.ts). */
  readonly #forwarder: NodeForwarder;
  /** The placement side: failover list, response cache, the walk and its faults (request-placer.ts). */
  readonly #placer: RequestPlacer;
  readonly #idempotency = new IdempotencyCache<InferResponse>({
    windowMs: IDEMPOTENCY_WINDOW_MS,
    maxEntries: IDEMPOTENCY_MAX_ENTRIES,
  });

  constructor(options: InferServiceOptions) {
    this.#placement = options.placement;
    this.#log = options.log ?? (() => {});
    this.#onAnswered = options.onAnswered;
    this.#inFlight = options.inFlight ?? new InFlightLimiter();
    this.#observer = options.observer ?? noObserver;
    this.#traces = options.traces;
    this.#versions = options.versions;
    this.#forwarder = new NodeForwarder({
      client: options.nodeClient,
      log: this.#log,
      onReceiptChecked: (ok) => this.#observer.receiptChecked(ok),
      manifestOf: options.manifestOf,
      sha256: options.sha256,
      catalogue: options.catalogue,
      signForward: options.signForward,
      forwardAnswered: options.forwardAnswered,
    });
    this.#placer = new RequestPlacer({
      placement: options.placement,
      forwarder: this.#forwarder,
      cache: options.cache,
      observer: this.#observer,
      log: this.#log,
      onNodeFault: options.onNodeFault,
      manifestOf: options.manifestOf,
      catalogue: options.catalogue,
    });
  }

  /** Requests in progress now (all callers). */
  get inFlight(): number {
    return this.#inFlight.inFlight;
  }

  /**
   * Validates and answers one request; `replayed` is true when an earlier answer was reused, `cache`
   * says what the response cache did. `hints`: the trace, priority, deadline and cache directives the
   * request carried outside its body (headers, MQTT user properties).
   */
  async infer(
    body: unknown,
    caller: Caller,
    hints?: InferHints,
  ): Promise<{ response: InferResponse; replayed: boolean; cache?: CacheOutcome; traceparent?: string }> {
    const started = performance.now();
    const fields = (typeof body === 'object' && body !== null ? body : {}) as {
      model?: unknown;
      id?: unknown;
    };
    const ctx: RequestContext = {
      hints,
      trace: new RequestTrace({
        parent: hints?.trace,
        model: typeof fields.model === 'string' ? fields.model.slice(0, 64) : '',
        channel: hints?.channel ?? 'http',
      }),
      overloaded: { count: 0, retryAfterMs: undefined },
    };
    try {
      const answer = await this.#infer(body, caller, started, ctx);
      // A replay keeps the first answer's trace (its hops are that request's).
      ctx.trace.finish({
        book: answer.replayed ? undefined : this.#traces,
        tenant: caller.tenant,
        requestId: answer.response.id,
        ok: true,
        ...(ctx.cache ? { cache: ctx.cache } : {}),
      });
      const { timing } = answer.response;
      this.#observer.inference({
        model: answer.response.model_name,
        outcome: 'ok',
        seconds: (performance.now() - started) / 1000,
        placementSeconds: timing.placementMs / 1000,
      });
      return { ...answer, ...(ctx.cache ? { cache: ctx.cache } : {}), traceparent: ctx.trace.traceparent };
    } catch (err) {
      ctx.trace.finish({
        book: this.#traces,
        tenant: caller.tenant,
        requestId: typeof fields.id === 'string' ? fields.id.slice(0, 128) : undefined,
        ok: false,
        code: err instanceof HexEdgeError ? err.code : 'INTERNAL',
      });
      const model =
        typeof (body as { model?: unknown } | null)?.model === 'string'
          ? (body as { model: string }).model.slice(0, 64)
          : '';
      this.#observer.inference({
        model,
        outcome: err instanceof HexEdgeError ? err.code : 'INTERNAL',
        seconds: (performance.now() - started) / 1000,
      });
      throw err;
    }
  }

  async #infer(
    body: unknown,
    caller: Caller,
    started: number,
    ctx: RequestContext,
  ): Promise<{ response: InferResponse; replayed: boolean }> {
    const request = parseInferRequest(body);
    if (caller.models && !caller.models.includes(request.model)) {
      throw new HexEdgeError(
        'FORBIDDEN',
        `this API key may not use model '${request.model}' (allowed: ${caller.models.join(', ')})`,
      );
    }
    const location = resolveLocation(request.location);
    const inputs = request.inputs?.map((t) => toWireTensor(checkTensor(t)));
    const policy = withHints(this.#policyFor(request, caller), ctx.hints);
    // The in-process placement answers at once: no await (a microtask turn) for a value already known.
    const known = this.#placement.isKnownModel(request.model, request.version);
    if (!(known instanceof Promise ? await known : known)) {
      throw new HexEdgeError(
        'MODEL_NOT_FOUND',
        `no node serves model '${request.model}'${request.version ? ` version '${request.version}'` : ''}`,
      );
    }
    // Inside `run`, so an idempotent replay is not reported twice.
    const run = async () => {
      // The rollout hook: `place` runs this request on a version (or mirrors it); the router picks.
      const place: PlaceFn = (o = {}) => {
        const { id: _id, ...fresh } = request;
        const mirror = o.mirror !== undefined;
        const req = mirror ? fresh : request;
        // A mirror is no caller's request: never answered from the cache nor stored in it (no tenant),
        // its overload count apart; its hops join the request's trace.
        const { tenant: _tenant, ...untenanted } = caller;
        return this.#placer.place({
          request: o.version !== undefined ? { ...req, version: o.version } : req,
          location,
          inputs,
          policy: o.mirror ? { ...policy, deadlineMs: o.mirror.deadlineMs, hedge: false } : policy,
          started: mirror ? performance.now() : started,
          caller: mirror ? untenanted : caller,
          ctx: mirror ? { ...ctx, overloaded: { count: 0, retryAfterMs: undefined } } : ctx,
          ...(o.skip ? { skip: o.skip } : {}),
          mirror,
        });
      };
      const busy = () => this.#inFlight.inFlight * 2 >= this.#inFlight.maxTotal;
      const response = this.#versions
        ? await this.#versions.route({ request, caller, place, busy })
        : await place();
      // A cached answer is no new work: nothing to report to the oracle.
      if (response.cached) return response;
      try {
        // With the policy the request ran under (headers filled in): the re-runs of a check carry the same.
        this.#onAnswered?.(policy ? { ...request, policy } : request, response, caller);
      } catch (err) {
        this.#log(`onAnswered failed: ${(err as Error).message}`);
      }
      return response;
    };
    const release = this.#inFlight.acquire(caller.id, policy?.priority);
    try {
      if (request.id === undefined) return { response: await run(), replayed: false };
      const { value, replayed } = await this.#idempotency.run(`${caller.id}\u0000${request.id}`, run);
      return { response: value, replayed };
    } finally {
      release();
    }
  }

  #policyFor(request: InferRequest, caller: Caller): PlacementPolicy | undefined {
    if (!caller.region) return request.policy;
    if (request.policy?.region && request.policy.region.toLowerCase() !== caller.region.toLowerCase()) {
      throw new HexEdgeError(
        'FORBIDDEN',
        `this API key keeps data in region '${caller.region}'; policy.region '${request.policy.region}' is not allowed`,
      );
    }
    return { ...request.policy, region: caller.region };
  }

  /** The oracle's spot-check re-run on one node: forwarded as live traffic, the node's answer as it is. */
  async rerun(options: {
    node: NodeRecord;
    request: RerunRequest;
    signal: AbortSignal;
    trace?: TraceContext;
    deadlineMs: number;
    priority?: Priority;
  }): Promise<NodeAnswer> {
    const { node, request } = options;
    const inputs = request.inputs?.map((t) => toWireTensor(checkTensor(t)));
    // The same headers live traffic carries (a trace, the budget left), so a check looks like a customer.
    const hintHeaders = hintHeadersFor({
      trace: options.trace ?? newTraceContext(),
      deadlineMs: options.deadlineMs,
      priority: options.priority,
    });
    const answer = await this.#forwarder.send({
      node,
      model: request.modelName,
      version: request.modelVersion,
      id: crypto.randomUUID(),
      inputs,
      input: request.input,
      signal: options.signal,
      hintHeaders,
    });
    // The oracle reads the node's answer as OIP JSON, whichever encoding it came in.
    return { status: answer.status, body: answerAsJson(answer.body) };
  }
}
