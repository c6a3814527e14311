import {
  checkTensor,
  ERROR_CODES,
  HexEdgeError,
  inferRequestSchema,
  oipInferenceResponseSchema,
  parseWith,
  predictResponseSchema,
  tensorToJson,
  type InferRequest,
  type ErrorCode,
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
import { NodeFault } from './forward.ts';
import { IdempotencyCache } from './idempotency.ts';
import { LatencyTracker } from './latency-tracker.ts';
import type { NodeAnswer, NodeClient } from './node-client.ts';
import { checkReceipt, type ReceiptDigests } from './receipt-check.ts';
import { noObserver, type GatewayObserver } from '../observe.ts';

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
  }): void | Promise<void>;
}

/** Who is calling, as the key check established it. */
export interface Caller {
  id: string;
  /** Models the key may use; undefined means all. */
  models?: readonly string[];
  /** Data residency: every request of this key is served inside this region (raw inputs stay there). */
  region?: string;
}

const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
const IDEMPOTENCY_MAX_ENTRIES = 10_000;

export interface InferServiceOptions {
  placement: PlacementPort;
  nodeClient: NodeClient;
  log?: (message: string) => void;
  /** Called once per fresh answer, after the receipt check (the oracle's ReceiptForwarder); must not block. */
  onAnswered?: (request: InferRequest, response: InferResponse) => void;
  /** SHA-256 for receipt digests; WebCrypto's when absent. */
  sha256?: Sha256Hex;
  /** Inference and receipt-check counts and times, for metrics. */
  observer?: GatewayObserver;
  /** The model catalogue (origin registry): receipts are bound to its name, version and content id. */
  catalogue?: { manifests(): readonly ModelManifest[] };
  /** Signs each forwarded request for its node (the headers nodes check: a gateway they know, this body). */
  signForward?: (target: { targetNodeId: string; route: ForwardRoute; modelName: string; modelVersion: string; body: string }) => Promise<Record<string, string>>;
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
  readonly #sha256: Sha256Hex | undefined;
  readonly #observer: GatewayObserver;
  readonly #catalogue: InferServiceOptions['catalogue'];
  readonly #signForward: InferServiceOptions['signForward'];
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
    this.#sha256 = options.sha256;
    this.#observer = options.observer ?? noObserver;
    this.#catalogue = options.catalogue;
    this.#signForward = options.signForward;
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
      const response = await this.#place({ request, location, inputs, policy, started });
      try {
        this.#onAnswered?.(request, response);
      } catch (err) {
        this.#log(`onAnswered failed: ${(err as Error).message}`);
      }
      return response;
    };
    if (request.id === undefined) return { response: await run(), replayed: false };
    const { value, replayed } = await this.#idempotency.run(`${caller.id}\u0000${request.id}`, run);
    return { response: value, replayed };
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
  }): Promise<InferResponse> {
    const { request, location, inputs, policy } = ctx;
    const candidates = await this.#placement.candidates({
      location,
      model: request.model,
      ...(request.version ? { version: request.version } : {}),
      ...(policy ? { policy } : {}),
    });
    const placementMs = performance.now() - ctx.started;
    if (candidates.length === 0)
      throw new HexEdgeError(
        'NO_NODE_AVAILABLE',
        `no healthy node can serve model '${request.model}' right now`,
      );
    const id = request.id ?? crypto.randomUUID();
    // The walk and its policy (attempts, deadline, hedge, attempt timeout, outcome reports) live in
    // failover-walk.ts, where the network simulator runs the same code on its clock.
    const { result, candidate, attempts } = await walkFailoverList({
      candidates,
      model: request.model,
      policy,
      latency: this.#latency,
      attempt: (c, signal) => this.#attempt({ node: c.node, entry: c.model, request, id, inputs, signal }),
      reportOutcome: this.#placement.reportOutcome?.bind(this.#placement),
      log: this.#log,
    });
    this.#observer.walk({ attempts });
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

  /**
   * Sends one request to one node, signed for it: the one way a request reaches a node, so live
   * traffic and the oracle's re-runs are the same bytes on the same route with the same headers.
   */
  async #send(a: { node: NodeRecord; model: string; version: string; id: string; inputs: Tensor[] | undefined; input: unknown; outputs?: InferRequest['outputs']; signal: AbortSignal }): Promise<NodeAnswer> {
    const route: ForwardRoute = a.inputs ? 'infer' : 'predict';
    const url = `${a.node.url}/v2/models/${encodeURIComponent(a.model)}/versions/${encodeURIComponent(a.version)}/${route}`;
    const body = JSON.stringify(
      a.inputs ? { id: a.id, inputs: a.inputs.map(tensorToJson), ...(a.outputs ? { outputs: a.outputs } : {}) } : { id: a.id, input: a.input },
    );
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
    if (!listed && manifests.some((m) => m.name === request.model))
      throw new NodeFault(`node ${node.id} announces ${request.model}@${entry.version}, a version the catalogue does not list`);
    if (listed && listed.contentId !== entry.contentId)
      throw new NodeFault(`node ${node.id} announces ${request.model}@${entry.version} as ${entry.contentId}, the catalogue lists ${listed.contentId}`);
    const started = performance.now();
    let answer: NodeAnswer;
    try {
      answer = await this.#send({ node, model: request.model, version: entry.version, id, inputs, input: request.input, ...(request.outputs ? { outputs: request.outputs } : {}), signal: a.signal });
    } catch (err) {
      throw new NodeFault(`node ${node.id} unreachable: ${(err as Error).message}`);
    }
    const nodeMs = performance.now() - started;
    // A node refusing the gateway itself (it does not know this gateway's key yet) is no fault of the request.
    if (answer.status === 401 || answer.status === 403) throw new NodeFault(`node ${node.id} refused the gateway (${answer.status})`);
    // Only a 4xx blames the request; any other status but 200 is the node's fault (fail over).
    if (answer.status !== 200 && (answer.status < 400 || answer.status >= 500))
      throw new NodeFault(`node ${node.id} answered ${answer.status}`);
    if (answer.status !== 200) throw nodeRequestError(answer, node.id);
    let digests: ReceiptDigests;
    let outputs: Tensor[] | undefined;
    let output: unknown;
    let parameters: Record<string, unknown> | undefined;
    if (inputs) {
      const parsed = oipInferenceResponseSchema.safeParse(answer.body);
      if (!parsed.success) throw new NodeFault(`node ${node.id} sent a malformed OIP response`);
      try {
        outputs = parsed.data.outputs.map((o) => checkTensor(o));
      } catch (err) {
        // A node's malformed output is the node's fault, not the request's: fail over.
        throw new NodeFault(`node ${node.id} sent a bad output: ${(err as Error).message}`);
      }
      parameters = parsed.data.parameters;
      digests = { kind: 'tensors', inputs, outputs };
    } else {
      const parsed = predictResponseSchema.safeParse(answer.body);
      if (!parsed.success) throw new NodeFault(`node ${node.id} sent a malformed predict response`);
      output = parsed.data.output;
      parameters = parsed.data.parameters;
      digests = { kind: 'json', input: request.input, output };
    }
    try {
      const receipt = await checkReceipt({
        parameters,
        nodeId: node.id,
        requestId: id,
        modelName: request.model,
        modelVersion: entry.version,
        modelContentId: listed?.contentId ?? entry.contentId,
        digests,
        ...(this.#sha256 ? { sha256: this.#sha256 } : {}),
      });
      this.#observer.receiptChecked(true);
      return { outputs, output, receipt, nodeMs, version: entry.version };
    } catch (err) {
      this.#observer.receiptChecked(false);
      this.#log(`request ${id}: ${(err as Error).message}`);
      throw new NodeFault((err as Error).message);
    }
  }
}

/** A 4xx from a node is the request's fault: pass the node's code and message on to the client. */
function nodeRequestError(answer: NodeAnswer, nodeId: string): HexEdgeError {
  const b = answer.body as { error?: unknown; code?: unknown } | null;
  const message = typeof b?.error === 'string' ? b.error : `node answered HTTP ${answer.status}`;
  // The node's code only if it is ours and a request error: an unknown one ('__proto__') or a 5xx code would break the answer.
  const known =
    typeof b?.code === 'string' &&
    Object.hasOwn(ERROR_CODES, b.code) &&
    ERROR_CODES[b.code as ErrorCode].httpStatus < 500;
  const code = known ? (b!.code as ErrorCode) : answer.status === 404 ? 'MODEL_NOT_FOUND' : 'INVALID_REQUEST';
  return new HexEdgeError(code, message, { nodeId });
}
