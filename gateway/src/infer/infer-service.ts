import {
  checkInputSpecs,
  checkTensor,
  HexEdgeError,
  inferRequestSchema,
  isHexEdgeError,
  parseWith,
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
import { walkFailoverList } from './failover-walk.ts';
import { noObserver, type GatewayObserver } from '../observe.ts';
import { IdempotencyCache } from './idempotency.ts';
import { InFlightLimiter } from './in-flight.ts';
import { LatencyTracker } from './latency-tracker.ts';
import { checkNodeAnswer } from './node-answer.ts';
import type { NodeAnswer, NodeClient } from './node-client.ts';
import { NodeFault, type ObservedNodeFault } from './node-fault.ts';
import type { PlaceFn, VersionRouter } from '../rollouts/version-router.ts';

type Candidates = { node: NodeRecord; distanceKm: number; model: NodeModel }[];

/** What the gateway needs from placement (the in-process `Placement`, or a Worker's shard client). */
export interface PlacementPort {
  /** The failover list, best first; `model` is the node's entry for the model (it may still be loading). */
  candidates(query: {
    location: LatLng;
    model: string;
    version?: string;
    policy?: PlacementPolicy;
  }): Candidates | Promise<Candidates>;
  isKnownModel(model: string, version?: string): boolean | Promise<boolean>;
  reportOutcome?(outcome: {
    nodeId: string;
    model: string;
    latencyMs: number;
    ok: boolean;
    overloaded?: boolean;
  }): void | Promise<void>;
}

/** Who is calling, as the key check established it. */
export interface Caller {
  id: string;
  /** Models the key may use; undefined means all. */
  models?: readonly string[];
  /** Data residency: every request of this key is served inside this region (raw inputs stay there). */
  region?: string;
  /** The device behind the request (an MQTT client, a LoRaWAN device through the bridge): rollouts' device and fleet canaries. */
  device?: { id: string; fleet?: string };
}

const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
const IDEMPOTENCY_MAX_ENTRIES = 10_000;

export interface InferServiceOptions {
  placement: PlacementPort;
  nodeClient: NodeClient;
  log?: (message: string) => void;
  /** Called once per fresh answer, after the receipt check (the oracle's ReceiptForwarder); must not block. */
  onAnswered?: (request: InferRequest, response: InferResponse, caller: Caller) => void;
  /** Each node fault the gateway observed and judged (reported to the oracle); must not block. */
  onNodeFault?: (fault: ObservedNodeFault) => void;
  /** The manifest of a model by content id (the origin catalogue): requests are checked against it before forwarding. */
  manifestOf?: (contentId: string) => ModelManifest | undefined;
  /** Bounds requests in progress per caller and overall; a default one when absent. */
  inFlight?: InFlightLimiter;
  /** SHA-256 for receipt digests; WebCrypto's when absent. */
  sha256?: Sha256Hex;
  /** Inference and receipt-check counts and times, for metrics. */
  observer?: GatewayObserver;
  /** The model catalogue (origin registry): receipts are bound to its name, version and content id. */
  catalogue?: { manifests(): readonly ModelManifest[] };
  /** Signs each forwarded request for its node (the headers nodes check: a gateway they know, this body). */
  signForward?: (target: { targetNodeId: string; route: ForwardRoute; modelName: string; modelVersion: string; body: string }) => Promise<Record<string, string>>;
  /** Picks the version each request runs on (version policies, canaries, mirrors: rollouts/); absent: the request's own. */
  versions?: VersionRouter;
}

/** What the oracle asks a node to re-run, through the gateway, as live traffic. */
export interface RerunRequest {
  modelName: string;
  modelVersion: string;
  inputs?: Tensor[];
  input?: unknown;
}

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
  readonly #versions: VersionRouter | undefined;
  readonly #latency = new LatencyTracker();
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
    this.#versions = options.versions;
  }

  /** Requests in progress now (all callers). */
  get inFlight(): number {
    return this.#inFlight.inFlight;
  }

  /** Validates and answers one request; `replayed` is true when an earlier answer was reused. */
  async infer(body: unknown, caller: Caller): Promise<{ response: InferResponse; replayed: boolean }> {
    const started = performance.now();
    try {
      const answer = await this.#infer(body, caller, started);
      const { timing } = answer.response;
      this.#observer.inference({
        model: answer.response.model_name,
        outcome: 'ok',
        seconds: (performance.now() - started) / 1000,
        placementSeconds: timing.placementMs / 1000,
      });
      return answer;
    } catch (err) {
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
  ): Promise<{ response: InferResponse; replayed: boolean }> {
    const request = parseWith(inferRequestSchema, body, { what: 'infer request' });
    if (caller.models && !caller.models.includes(request.model)) {
      throw new HexEdgeError(
        'FORBIDDEN',
        `this API key may not use model '${request.model}' (allowed: ${caller.models.join(', ')})`,
      );
    }
    const location = resolveLocation(request.location);
    const inputs = request.inputs?.map((t) => checkTensor(t));
    const policy = this.#policyFor(request, caller);
    if (!(await this.#placement.isKnownModel(request.model, request.version))) {
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
        const req = o.mirror ? fresh : request;
        return this.#place({
          request: o.version !== undefined ? { ...req, version: o.version } : req,
          location,
          inputs,
          policy: o.mirror ? { ...policy, deadlineMs: o.mirror.deadlineMs, hedge: false } : policy,
          started: o.mirror ? performance.now() : started,
          ...(o.skip ? { skip: o.skip } : {}),
          mirror: o.mirror !== undefined,
        });
      };
      const busy = () => this.#inFlight.inFlight * 2 >= this.#inFlight.maxTotal;
      const response = this.#versions ? await this.#versions.route({ request, caller, place, busy }) : await place();
      try {
        this.#onAnswered?.(request, response, caller);
      } catch (err) {
        this.#log(`onAnswered failed: ${(err as Error).message}`);
      }
      return response;
    };
    const release = this.#inFlight.acquire(caller.id);
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
    skip?: (c: { nodeId: string; version: string }) => boolean;
    mirror?: boolean;
  }): Promise<InferResponse> {
    const { request, location, inputs, policy, skip } = ctx;
    const placed = await this.#placement.candidates({
      location,
      model: request.model,
      ...(request.version ? { version: request.version } : {}),
      ...(policy ? { policy } : {}),
    });
    const candidates = skip ? placed.filter((c) => !skip({ nodeId: c.node.id, version: c.model.version })) : placed;
    const placementMs = performance.now() - ctx.started;
    if (candidates.length === 0)
      throw new HexEdgeError(
        'NO_NODE_AVAILABLE',
        `no healthy node can serve model '${request.model}'${request.version ? ` version '${request.version}'` : ''} right now`,
      );
    const id = request.id ?? crypto.randomUUID();
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
      attempt: (c, signal) => this.#attempt({ node: c.node, entry: c.model, request, id, inputs, signal }),
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
      throw err;
    }
    // Another node served what they refused: their refusals were faults.
    for (const f of undecided)
      this.#reportOutcome({ nodeId: f.nodeId, model: request.model, requestId: id, latencyMs: 0, fault: f });
    const { result, candidate, attempts } = outcome;
    if (!ctx.mirror) this.#observer.walk({ attempts });
    return {
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
      receipt: result.receipt,
    };
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
  async #send(a: { node: NodeRecord; model: string; version: string; id: string; inputs: Tensor[] | undefined; input: unknown; outputs?: InferRequest['outputs']; signal: AbortSignal }): Promise<NodeAnswer> {
    const route: ForwardRoute = a.inputs ? 'infer' : 'predict';
    const url = `${a.node.url}/v2/models/${encodeURIComponent(a.model)}/versions/${encodeURIComponent(a.version)}/${route}`;
    const body = JSON.stringify(a.inputs ? { id: a.id, inputs: a.inputs.map(tensorToJson), ...(a.outputs ? { outputs: a.outputs } : {}) } : { id: a.id, input: a.input });
    const headers = await this.#signForward?.({ targetNodeId: a.node.id, route, modelName: a.model, modelVersion: a.version, body });
    return this.#client.post({ url, body, signal: a.signal, ...(headers ? { headers } : {}) });
  }

  /** The oracle's spot-check re-run on one node: forwarded as live traffic, the node's answer as it is. */
  async rerun(options: { node: NodeRecord; request: RerunRequest; signal: AbortSignal }): Promise<NodeAnswer> {
    const { node, request } = options;
    const inputs = request.inputs?.map((t) => checkTensor(t));
    return this.#send({ node, model: request.modelName, version: request.modelVersion, id: crypto.randomUUID(), inputs, input: request.input, signal: options.signal });
  }

  async #attempt(a: { node: NodeRecord; entry: NodeModel; request: InferRequest; id: string; inputs: Tensor[] | undefined; signal: AbortSignal }) {
    const { node, entry, request, id, inputs } = a;
    // The catalogue, not the node, says which bytes a name@version is; a model it does not list is the node's own.
    const manifests = this.#catalogue?.manifests() ?? [];
    const listed = manifests.find((m) => m.name === request.model && m.version === entry.version);
    if ((!listed && manifests.some((m) => m.name === request.model)) || (listed && listed.contentId !== entry.contentId)) {
      this.#log(`node ${node.id} announces ${request.model}@${entry.version} as ${entry.contentId}; the catalogue ${listed ? `lists ${listed.contentId}` : 'does not list that version'}`);
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
    let answer: NodeAnswer;
    try {
      answer = await this.#send({ node, model: request.model, version: entry.version, id, inputs, input: request.input, ...(request.outputs ? { outputs: request.outputs } : {}), signal: a.signal });
    } catch (err) {
      const oversized = isHexEdgeError(err) && err.code === 'PAYLOAD_TOO_LARGE';
      if (!oversized) this.#log(`node ${node.id} unreachable: ${(err as Error).message}`);
      throw new NodeFault({ nodeId: node.id, kind: oversized ? 'oversized' : 'unreachable' });
    }
    const nodeMs = performance.now() - started;
    const checked = await checkNodeAnswer({
      answer,
      node,
      entry,
      request,
      requestId: id,
      inputs,
      validated: manifest !== undefined,
      contentId: listed?.contentId ?? entry.contentId,
      onReceiptChecked: (ok) => this.#observer.receiptChecked(ok),
      ...(this.#sha256 ? { sha256: this.#sha256 } : {}),
      log: this.#log,
    });
    return { ...checked, nodeMs };
  }
}
