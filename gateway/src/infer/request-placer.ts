import {
  HexEdgeError,
  isHexEdgeError,
  tensorToJson,
  type InferRequest,
  type InferResponse,
  type LatLng,
  type ModelManifest,
  type PlacementPolicy,
  type Tensor,
} from '@hexedge/protocol';
import type { InferCache } from '../cache/infer-cache.ts';
import type { GatewayObserver } from '../observe.ts';
import { walkFailoverList } from './failover-walk.ts';
import { cacheUseOf } from './infer-hints.ts';
import type { Caller, InferServiceOptions, PlacementPort } from './infer-ports.ts';
import { LatencyTracker } from './latency-tracker.ts';
import { NodeInFlight } from './node-in-flight.ts';
import type { NodeForwarder } from './node-forwarder.ts';
import type { NodeFault } from './node-fault.ts';
import type { RequestContext } from './request-context.ts';

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export interface RequestPlacerOptions extends Pick<
  InferServiceOptions,
  'onNodeFault' | 'manifestOf' | 'catalogue'
> {
  placement: PlacementPort;
  forwarder: NodeForwarder;
  cache: InferCache | undefined;
  observer: GatewayObserver;
  log: (m: string) => void;
}

/** One placement of a request (a version, a mirror), as `RequestPlacer.place` takes it. */
export interface PlaceRequest {
  request: InferRequest;
  location: LatLng;
  inputs: Tensor[] | undefined;
  policy: PlacementPolicy | undefined;
  started: number;
  caller: Caller;
  ctx: RequestContext;
  skip?: (c: { nodeId: string; version: string }) => boolean;
  mirror?: boolean;
}

/**
 * InferService's placement side: asks placement for the failover list, answers from the response
 * cache when it may, walks the list through the NodeForwarder and judges the faults (split out of
 * infer-service.ts).
 */
export class RequestPlacer {
  readonly #placement: PlacementPort;
  readonly #forwarder: NodeForwarder;
  readonly #log: (m: string) => void;
  readonly #onNodeFault: InferServiceOptions['onNodeFault'];
  readonly #manifestOf: InferServiceOptions['manifestOf'];
  readonly #observer: GatewayObserver;
  readonly #catalogue: InferServiceOptions['catalogue'];
  readonly #cache: InferCache | undefined;
  readonly #latency = new LatencyTracker();
  /** Forwards outstanding per node, which placement ranks with (a burst spreads over near-equal nodes). */
  readonly #inFlight = new NodeInFlight();

  constructor(options: RequestPlacerOptions) {
    this.#placement = options.placement;
    this.#forwarder = options.forwarder;
    this.#log = options.log;
    this.#onNodeFault = options.onNodeFault;
    this.#manifestOf = options.manifestOf;
    this.#observer = options.observer;
    this.#catalogue = options.catalogue;
    this.#cache = options.cache;
  }

  async place(ctx: PlaceRequest): Promise<InferResponse> {
    const { request, location, inputs, policy, skip } = ctx;
    const { trace, overloaded } = ctx.ctx;
    const placing = this.#placement.candidates({
      location,
      model: request.model,
      ...(request.version ? { version: request.version } : {}),
      ...(policy ? { policy } : {}),
      inFlight: this.#inFlight,
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
      attempt: async (c, signal) => {
        const end = this.#inFlight.begin(c.node.id);
        try {
          return await this.#forwarder.attempt({
            node: c.node,
            entry: c.model,
            request,
            id,
            inputs,
            signal,
            policy,
            started: ctx.started,
            ctx: ctx.ctx,
          });
        } finally {
          end();
        }
      },
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
    const reported = this.#placement.reportOutcome?.({
      nodeId: o.nodeId,
      model: o.model,
      latencyMs: o.latencyMs,
      ok: !fault,
      ...(fault?.overloaded ? { overloaded: true } : {}),
    });
    // The in-process placement answers at once: a promise (and its handler) only for one that is one.
    if (reported instanceof Promise)
      reported.catch((err: unknown) =>
        this.#log(`outcome report for ${o.nodeId} failed: ${(err as Error).message}`),
      );
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
}
