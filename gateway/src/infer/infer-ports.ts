import type {
  ForwardRoute,
  InferRequest,
  InferResponse,
  LatLng,
  ModelManifest,
  NodeModel,
  PlacementPolicy,
  Sha256Hex,
  Tensor,
} from '@hexedge/protocol';
import type { InFlightCounts, NodeRecord } from '@hexedge/placement';
import type { InferCache } from '../cache/infer-cache.ts';
import type { GatewayObserver } from '../observe.ts';
import type { VersionRouter } from '../rollouts/version-router.ts';
import type { TraceBook } from '../trace/trace-book.ts';
import type { InFlightLimiter } from './in-flight.ts';
import type { NodeAnswer, NodeClient } from './node-client.ts';
import type { ObservedNodeFault } from './node-fault.ts';

/** What InferService is given and asked (infer-service.ts): its ports, its caller and its options. */

export type Candidates = { node: NodeRecord; distanceKm: number; model: NodeModel }[];

/** What the gateway needs from placement (the in-process `Placement`, or a Worker's shard client). */
export interface PlacementPort {
  /** The failover list, best first; `model` is the node's entry for the model (it may still be loading). */
  candidates(query: {
    location: LatLng;
    model: string;
    version?: string;
    policy?: PlacementPolicy;
    /** This gateway's forwards outstanding per node: placement ranks loaded nodes lower. */
    inFlight?: InFlightCounts;
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
  /**
   * Whose answers these are (`key:{id}`, `device:{id}`, `fleet:{name}`): the response cache and the
   * trace book are per tenant. Without one nothing is cached and no trace is kept.
   */
  tenant?: string;
  /** The device behind the request (an MQTT client, a LoRaWAN device through the bridge): rollouts' device and fleet canaries. */
  device?: { id: string; fleet?: string };
}

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
  /**
   * Signs each forwarded request for its node (the headers nodes check: a gateway they know, this body):
   * a forward MAC for nodes that take them, unless `signatureOnly`.
   */
  signForward?: (target: {
    targetNodeId: string;
    route: ForwardRoute;
    modelName: string;
    modelVersion: string;
    body: string | Uint8Array;
    signatureOnly?: boolean;
    /** The forward's time is at least this (a resend after a replay refusal). */
    notBeforeMs?: number;
  }) => Record<string, string> | Promise<Record<string, string>>;
  /**
   * Every node answer to a forwarded request, so the signer learns which nodes take forward MACs; how
   * to send it again when the answer asks for that (forward-batcher.ts: signed, to a node from before
   * forward MACs; with a later time, after a replay refusal), else undefined.
   */
  forwardAnswered?: (
    nodeId: string,
    answer: NodeAnswer,
    sent: Record<string, string> | undefined,
  ) => { signatureOnly?: true; notBeforeMs?: number } | undefined;
  /** The verifiable response cache (cache/infer-cache.ts); none when absent. */
  cache?: InferCache;
  /** Where each request's per-hop timings go (the developer dashboard); none when absent. */
  traces?: TraceBook;
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
