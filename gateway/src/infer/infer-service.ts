import {
  checkInputSpecs,
  checkTensor,
  HexEdgeError,
  newTraceContext,
  type Priority,
  type TraceContext,
  isHexEdgeError,
  tensorToJson,
  type InferRequest,
  type InferResponse,
  type LatLng,
  type PlacementPolicy,
  type Sha256Hex,
  type Tensor,
} from '@hexedge/protocol';
import type { ForwardRoute, ModelManifest, NodeModel } from '@hexedge/protocol';
import type { NodeRecord } from '@hexedge/placement';
import { resolveLocation } from '../location.ts';
import { parseInferRequest } from './request-shape.ts';
import { answerAsJson, encodeInferBody, HEADER_LENGTH_HEADER, toWireTensor } from './binary-tensors.ts';
import type { CacheOutcome, InferCache } from '../cache/infer-cache.ts';
import { RequestTrace } from '../trace/request-trace.ts';
import type { TraceBook } from '../trace/trace-book.ts';
import { retryAfterMsOf } from '../trace/node-metadata.ts';
import { DEFAULT_DEADLINE_MS, walkFailoverList } from './failover-walk.ts';
import { cacheUseOf, hintHeadersFor, withHints, type InferHints } from './infer-hints.ts';
import { noObserver, type GatewayObserver } from '../observe.ts';
import { IdempotencyCache } from './idempotency.ts';
import { InFlightLimiter } from './in-flight.ts';
import { LatencyTracker } from './latency-tracker.ts';
import { checkNodeAnswerNow, type CheckedAnswer } from './node-answer.ts';
import type { NodeAnswer, NodeClient } from './node-client.ts';
import { NodeFault } from './node-fault.ts';
import type { PlaceFn, VersionRouter } from '../rollouts/version-router.ts';
import type { Caller, InferServiceOptions, PlacementPort, RerunRequest } from './infer-ports.ts';

/** What one request carries through the service besides its body (trace, cache outcome, overloaded nodes). */
interface RequestContext {
  hints: InferHints | undefined;
  trace: RequestTrace;
  cache?: CacheOutcome;
  /** Nodes that refused for backpressure, and the shortest wait they asked for. */
  overloaded: { count: number; retryAfterMs: number | undefined };
}

const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
/**
 * Resends of one forward to one node at most (forward-batcher.ts `answered`): a signed one after a MAC
 * an older node could not read, then later times after replay refusals (a third identical request in
 * the same millisecond, or someone racing the gateway's own copies to the node).
 */
const MAX_FORWARD_RESENDS = 3;
const IDEMPOTENCY_MAX_ENTRIES = 10_000;

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * The gateway's one inference path, shared by HTTP and MQTT: validate, authorise the model, place,
 * forward along the failover list within the deadline (optionally hedged), check the node's receipt,
 * answer. A retried request id within the window gets the first answer, not a second inference.
 */
export class InferService {
  readonly #placement: PlacementPort;
  readonly #client: NodeClient;
  readonly #log: (m: string) => void;
  readonly #onAnswered: InferServiceOptions['onAnswered'];
  readonly #onNodeFault: InferServiceOptions['onNodeFault'];
  readonly #manifestOf: InferServiceOptions['manifestOf'];
  readonly #inFlight: InFlightLimiter;
  readonly #sha256: Sha256Hex | undefined;
  readonly #observer: GatewayObserver;
  readonly #catalogue: InferServiceOptions['catalogue'];
  readonly #signForward: InferServiceOptions['signForward'];
  readonly #forwardAnswered: InferServiceOptions['forwardAnswered'];
  readonly #cache: InferCache | undefined;
  readonly #traces: TraceBook | undefined;
  readonly #versions: VersionRouter | undefined;
  readonly #latency = new LatencyTracker();
  readonly #receiptChecked = (ok: boolean) => this.#observer.receiptChecked(ok);
  readonly #idempotency = new IdempotencyCache<InferResponse>({
    windowMs: IDEMPOTENCY_WINDOW_MS,
    maxEntries: IDEMPOTENCY_MAX_ENTRIES,
  });

  constructor(options: InferServiceOptions) {
    this.#placement = options.placement;
    this.#client = options.nodeClient;
    this.#log = options.log ?? (() => {});
    this.#onAnswered = options.onAnswered;
    this.#onNodeFault = options.onNodeFault;
    this.#manifestOf = options.manifestOf;
    this.#inFlight = options.inFlight ?? new InFlightLimiter();
    this.#sha256 = options.sha256;
    this.#observer = options.observer ?? noObserver;
    this.#catalogue = options.catalogue;
    this.#signForward = options.signForward;
    this.#forwardAnswered = options.forwardAnswered;
    this.#cache = options.cache;
    this.#traces = options.traces;
    this.#versions = options.versions;
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
        return this.#place({
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

  async #place(ctx: {
    request: InferRequest;
    location: LatLng;
    inputs: Tensor[] | undefined;
    policy: PlacementPolicy | undefined;
    started: number;
    caller: Caller;
    ctx: RequestContext;
    skip?: (c: { nodeId: string; version: string }) => boolean;
    mirror?: boolean;
  }): Promise<InferResponse> {
    const { request, location, inputs, policy, skip } = ctx;
    const { trace, overloaded } = ctx.ctx;
    const placing = this.#placement.candidates({
      location,
      model: request.model,
      ...(request.version ? { version: request.version } : {}),
      ...(policy ? { policy } : {}),
    });
    const placed = placing instanceof Promise ? await placing : placing;
    const candidates = skip
      ? placed.filter((c) => !skip({ nodeId: c.node.id, version: c.model.version }))
      : placed;
    const placementMs = performance.now() - ctx.started;
    trace.mark('placement', ctx.started);
    if (candidates.length === 0)
      throw new HexEdgeError(
        'NO_NODE_AVAILABLE',
        `no healthy node can serve model '${request.model}'${request.version ? ` version '${request.version}'` : ''} right now`,
      );
    const id = request.id ?? crypto.randomUUID();
    const lookupStarted = performance.now();
    const lookup =
      this.#cache &&
      (await this.#cache.lookup({
        tenant: ctx.caller.tenant,
        use: cacheUseOf(policy, ctx.ctx.hints),
        request,
        inputs,
        candidates,
        manifestOf: (contentId) => this.#manifestByContentId(contentId),
        requestId: id,
        startedMs: ctx.started,
      }));
    if (lookup) {
      ctx.ctx.cache = lookup.outcome;
      trace.mark('cache', lookupStarted, {
        detail: lookup.outcome,
        ...(lookup.hit ? { nodeId: lookup.hit.node.id } : {}),
      });
      if (lookup.hit) return lookup.hit;
    }
    // Refusals of a request the gateway could not check itself wait for the other nodes' verdict.
    const undecided: NodeFault[] = [];
    let faults = 0;
    // The walk and its policy (attempts, deadline, hedge, attempt timeout) live in failover-walk.ts,
    // where the network simulator runs the same code on its clock; the faults are judged here.
    const walk = walkFailoverList({
      candidates,
      model: request.model,
      policy,
      latency: this.#latency,
      attempt: (c, signal) =>
        this.#attempt({
          node: c.node,
          entry: c.model,
          request,
          id,
          inputs,
          signal,
          policy,
          started: ctx.started,
          ctx: ctx.ctx,
        }),
      onOutcome: (c, o) => {
        if (o.fault) faults++;
        if (o.fault?.kind === 'refused' && !o.fault.validated) return void undecided.push(o.fault);
        this.#reportOutcome({
          nodeId: c.node.id,
          model: request.model,
          requestId: id,
          latencyMs: o.latencyMs,
          ...(o.fault ? { fault: o.fault } : {}),
        });
      },
      log: this.#log,
    });
    let outcome: Awaited<typeof walk>;
    try {
      outcome = await walk;
    } catch (err) {
      // Every node asked refused a request the gateway could not check: most likely the request is bad.
      // (No node served it either, so nothing shows those refusals wrong: none is counted against a node.)
      if (
        undecided.length > 0 &&
        undecided.length === faults &&
        isHexEdgeError(err) &&
        err.code === 'NODE_FAILED'
      ) {
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `every node asked (${undecided.length}) refused this request for model '${request.model}' as invalid; check its input against the model (GET /v1/models)`,
        );
      }
      // Every node asked was full: the fabric has no capacity for it now (503), not a node failure (502).
      if (
        overloaded.count > 0 &&
        overloaded.count === faults &&
        isHexEdgeError(err) &&
        err.code === 'NODE_FAILED'
      ) {
        throw new HexEdgeError(
          'OVERLOADED',
          `every node asked (${overloaded.count}) is at capacity for model '${request.model}'${policy?.priority ? ` at ${policy.priority} priority` : ''}; retry shortly`,
          { retryAfterMs: overloaded.retryAfterMs ?? 1_000 },
        );
      }
      throw err;
    }
    // Another node served what they refused: their refusals were faults.
    for (const f of undecided)
      this.#reportOutcome({ nodeId: f.nodeId, model: request.model, requestId: id, latencyMs: 0, fault: f });
    const { result, candidate, attempts } = outcome;
    if (!ctx.mirror) this.#observer.walk({ attempts });
    const response: InferResponse = {
      id,
      model_name: request.model,
      model_version: result.version,
      ...(result.outputs ? { outputs: result.outputs.map(tensorToJson) } : { output: result.output }),
      node: { id: candidate.node.id, cell: candidate.node.cell, distanceKm: round(candidate.distanceKm) },
      timing: {
        placementMs: round(placementMs),
        nodeMs: round(result.nodeMs),
        totalMs: round(performance.now() - ctx.started),
      },
      receipt: { ...result.receipt, ...(result.metadata ? { metadata: result.metadata } : {}) },
    };
    if (lookup?.slot) this.#cache!.store(lookup.slot, response);
    return response;
  }

  /** The catalogue's manifest for these model bytes (or the origin's), for the cache's determinism check. */
  #manifestByContentId(contentId: string): ModelManifest | undefined {
    return (
      this.#catalogue?.manifests().find((m) => m.contentId === contentId) ?? this.#manifestOf?.(contentId)
    );
  }

  /** Placement learns every outcome; a fault also goes to the oracle. Feedback is advisory: it never fails the request. */
  #reportOutcome(o: {
    nodeId: string;
    model: string;
    requestId: string;
    latencyMs: number;
    fault?: NodeFault;
  }): void {
    const { fault } = o;
    void Promise.resolve(
      this.#placement.reportOutcome?.({
        nodeId: o.nodeId,
        model: o.model,
        latencyMs: o.latencyMs,
        ok: !fault,
        ...(fault?.overloaded ? { overloaded: true } : {}),
      }),
    ).catch((err: unknown) => this.#log(`outcome report for ${o.nodeId} failed: ${(err as Error).message}`));
    if (!fault || fault.overloaded) return;
    try {
      this.#onNodeFault?.({
        nodeId: o.nodeId,
        kind: fault.kind,
        ...(fault.httpStatus !== undefined ? { httpStatus: fault.httpStatus } : {}),
        model: o.model,
        requestId: o.requestId,
        atMs: Date.now(),
      });
    } catch (err) {
      this.#log(`onNodeFault failed: ${(err as Error).message}`);
    }
  }

  /**
   * Sends one request to one node, signed for it: the one way a request reaches a node, so live
   * traffic and the oracle's re-runs are the same bytes on the same route with the same headers.
   */
  async #send(a: {
    node: NodeRecord;
    model: string;
    version: string;
    id: string;
    inputs: Tensor[] | undefined;
    input: unknown;
    outputs?: InferRequest['outputs'];
    signal: AbortSignal;
    hintHeaders?: Record<string, string>;
  }): Promise<NodeAnswer> {
    const route: ForwardRoute = a.inputs ? 'infer' : 'predict';
    const url = `${a.node.url}/v2/models/${encodeURIComponent(a.model)}/versions/${encodeURIComponent(a.version)}/${route}`;
    // Tensors go as the binary extension (no float through JSON inside the fabric); domain input as JSON.
    let body: string | Uint8Array;
    let headers: Record<string, string>;
    if (a.inputs) {
      const encoded = encodeInferBody({
        id: a.id,
        inputs: a.inputs,
        ...(a.outputs ? { outputs: a.outputs } : {}),
      });
      body = encoded.body;
      headers = {
        ...a.hintHeaders,
        'content-type': 'application/octet-stream',
        [HEADER_LENGTH_HEADER]: String(encoded.headerLength),
      };
    } else {
      body = JSON.stringify({ id: a.id, input: a.input });
      headers = { ...a.hintHeaders, 'content-type': 'application/json' };
    }
    const target = { targetNodeId: a.node.id, route, modelName: a.model, modelVersion: a.version, body };
    // A MAC comes at once (no promise): awaited only when it is a signature still to be made.
    const signing = this.#signForward?.(target);
    const signature = signing instanceof Promise ? await signing : signing;
    let sent = signature;
    let answer = await this.#client.post({
      url,
      body,
      signal: a.signal,
      headers: sent ? { ...headers, ...sent } : headers,
    });
    // Sent again as the signer says: signed, to a node from before forward MACs (an older version back
    // in its place) that saw no signature; with a later time, to a node whose replay guard refused it
    // (forward-batcher.ts). Bounded: one that refuses every time gets its refusal passed on.
    for (let resends = 0; resends < MAX_FORWARD_RESENDS; resends++) {
      const again = this.#forwardAnswered?.(a.node.id, answer, sent);
      if (!again) return answer;
      const signing = this.#signForward!({ ...target, ...again });
      sent = signing instanceof Promise ? await signing : signing;
      answer = await this.#client.post({ url, body, signal: a.signal, headers: { ...headers, ...sent } });
    }
    return answer;
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
    const answer = await this.#send({
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

  async #attempt(a: {
    node: NodeRecord;
    entry: NodeModel;
    request: InferRequest;
    id: string;
    inputs: Tensor[] | undefined;
    signal: AbortSignal;
    policy: PlacementPolicy | undefined;
    started: number;
    ctx: RequestContext;
  }) {
    const { node, entry, request, id, inputs } = a;
    // The catalogue, not the node, says which bytes a name@version is; a model it does not list is the node's own.
    const manifests = this.#catalogue?.manifests() ?? [];
    const listed = manifests.find((m) => m.name === request.model && m.version === entry.version);
    if (
      (!listed && manifests.some((m) => m.name === request.model)) ||
      (listed && listed.contentId !== entry.contentId)
    ) {
      this.#log(
        `node ${node.id} announces ${request.model}@${entry.version} as ${entry.contentId}; the catalogue ${listed ? `lists ${listed.contentId}` : 'does not list that version'}`,
      );
      throw new NodeFault({ nodeId: node.id, kind: 'wrong-model' });
    }
    // Checked against the manifest of the very bytes this node announced, with the edge node's own
    // check: what passes here an honest node accepts, so a refusal is the node's fault.
    const manifest = inputs ? (listed ?? this.#manifestOf?.(entry.contentId)) : undefined;
    if (manifest && inputs) {
      checkInputSpecs({
        model: request.model,
        specs: manifest.inputs,
        inputs,
        outputSpecs: manifest.outputs,
        outputs: request.outputs?.map((o) => o.name) ?? [],
      });
    }
    const started = performance.now();
    const forward = a.ctx.trace.forward(node.id);
    // The node's scheduler learns the priority and the budget left (relative: the clocks need not agree).
    const hintHeaders = hintHeadersFor({
      trace: forward.context,
      deadlineMs: a.started + (a.policy?.deadlineMs ?? DEFAULT_DEADLINE_MS) - started,
      priority: a.policy?.priority,
    });
    let answer: NodeAnswer;
    try {
      answer = await this.#send({
        node,
        model: request.model,
        version: entry.version,
        id,
        inputs,
        input: request.input,
        ...(request.outputs ? { outputs: request.outputs } : {}),
        signal: a.signal,
        hintHeaders,
      });
    } catch (err) {
      const oversized = isHexEdgeError(err) && err.code === 'PAYLOAD_TOO_LARGE';
      if (!oversized) this.#log(`node ${node.id} unreachable: ${(err as Error).message}`);
      forward.end({ ok: false, detail: oversized ? 'oversized' : 'unreachable' });
      throw new NodeFault({ nodeId: node.id, kind: oversized ? 'oversized' : 'unreachable' });
    }
    const checkStarted = performance.now();
    const nodeMs = checkStarted - started;
    let checked: CheckedAnswer;
    try {
      // Most answers are checked without a promise (a root verified before): no await then.
      const now = checkNodeAnswerNow({
        answer,
        node,
        entry,
        request,
        requestId: id,
        inputs,
        validated: manifest !== undefined,
        contentId: listed?.contentId ?? entry.contentId,
        onReceiptChecked: this.#receiptChecked,
        ...(this.#sha256 ? { sha256: this.#sha256 } : {}),
        log: this.#log,
      });
      checked = now instanceof Promise ? await now : now;
    } catch (err) {
      if (err instanceof NodeFault && err.overloaded) {
        const o = a.ctx.overloaded;
        o.count++;
        const waitMs = retryAfterMsOf(answer.body);
        if (waitMs !== undefined) o.retryAfterMs = Math.min(o.retryAfterMs ?? waitMs, waitMs);
      }
      forward.end({
        ok: false,
        detail: err instanceof NodeFault ? err.kind : 'error',
        answeredPerf: checkStarted,
      });
      throw err;
    }
    const metadata = a.ctx.trace.nodeMetadata(checked.receiptMetadata);
    forward.end({ ok: true, answeredPerf: checkStarted, ...(metadata ? { metadata } : {}) });
    a.ctx.trace.mark('receipt-check', checkStarted, { nodeId: node.id });
    return { ...checked, nodeMs, metadata };
  }
}
