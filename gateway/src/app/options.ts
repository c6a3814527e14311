// The types at createGatewayApp's edge: what a composition root (the Node builder, the Worker) passes
// in, and what the app resolves from it once so that every route group (./*-wiring.ts) wires from the
// same pieces instead of each resolving its own defaults.
import type { InferRequest, InferResponse, NodeKeyPair, Sha256Hex } from '@hexedge/protocol';
import type { DeviceRegistry } from '@hexedge/firmware-bridge';
import type { NodeRecord, Placement } from '@hexedge/placement';
import type { Context, MiddlewareHandler } from 'hono';
import type { GatewayEnv } from '../auth.ts';
import type { InferCache } from '../cache/infer-cache.ts';
import type { ModelCatalog } from '../catalog.ts';
import type { GatewayPlacement } from '../gateway-placement.ts';
import type { InferService } from '../infer/infer-service.ts';
import type { Caller } from '../infer/infer-ports.ts';
import type { NodeClient } from '../infer/node-client.ts';
import type { ObservedNodeFault } from '../infer/node-fault.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { KeyLimiter } from '../keys/rate-limit.ts';
import type { NodeUrlPolicy } from '../node-urls.ts';
import type { GatewayObserver, httpObservations } from '../observe.ts';
import type { RolloutManager } from '../rollouts/rollout-manager.ts';
import type { DashboardOptions, mountDashboard } from '../routes/dashboard.ts';
import type { SourceLimiter } from '../routes/node-message-limits.ts';
import type { RerunNonces } from '../routes/oracle-rerun.ts';
import type { SeqStore, TrustSink } from '../routes/oracle.ts';
import type { TraceBook } from '../trace/trace-book.ts';
import type { UsageBook } from '../usage.ts';

/** A part of the gateway that readiness depends on: starting (not yet connected once), up, or down (lost). */
export type PartState = 'starting' | 'up' | 'down';

export interface GatewayAppOptions {
  /** The in-process placement (Node), or a port to a remote one (the Worker's sharded Durable Objects; no dashboards then). */
  placement: Placement | GatewayPlacement;
  keys: KeyRing;
  nodeClient?: NodeClient;
  catalog?: ModelCatalog;
  /** Meters keys; an in-memory RateLimiter when absent (the Worker passes its Durable Objects' one). */
  limiter?: KeyLimiter;
  /** Whether the gateway is ready to serve (the composition root flips it once everything is up). */
  isReady?: () => boolean;
  /** The state of each part readiness depends on (`/healthz` lists them; any part not 'up' makes it 503). */
  parts?: () => Record<string, PartState>;
  /** The gateway's report key id (receipts it forwards to oracles are signed by it): `GET /v1/gateway/identity`. */
  reporterId?: string;
  /**
   * The report keys of the other gateway instances behind the same public URL (each has its own data
   * directory and key): the identity lists them with `reporterId` (`reporterIds`), so nodes trust every
   * instance that forwards to them, whichever one answers their identity read.
   */
  siblingReporterIds?: readonly string[];
  /** Structured log lines (JSON objects); never given keys or raw inputs. */
  log?: (entry: Record<string, unknown>) => void;
  /** The web dashboards: built files, event bus, oracle reader (routes/dashboard.ts). */
  dashboard?: DashboardOptions;
  /** The coverage oracle: trust pushes accepted from `oracleIds`; /v1/coverage proxied to `url`. */
  oracle?: { url: string; oracleIds: readonly string[] };
  /** The last applied trust push seq per oracle (durable on Node); memory when absent. */
  trustSeqs?: SeqStore;
  /** Where the oracle's trust pushes go when placement is not in this process (the Worker's shards). */
  trustSink?: TrustSink;
  /**
   * The oracle's spot-check re-runs when placement is not in this process (the Worker): the node's
   * record from its shard, and the used nonces in one book for every isolate.
   */
  reruns?: { nodeOf: (nodeId: string) => Promise<NodeRecord | undefined>; nonces: RerunNonces };
  /** Each fresh, receipt-checked answer (the oracle's ReceiptForwarder samples them for spot checks). */
  onAnswered?: (request: InferRequest, response: InferResponse, caller: Caller) => void;
  /** Each node fault the gateway judged (the ReceiptForwarder reports them to the oracle). */
  onNodeFault?: (fault: ObservedNodeFault) => void;
  /** Where nodes may be reached (node-urls.ts): private addresses refused unless allowed. Default: refused. */
  nodeUrls?: NodeUrlPolicy;
  /** Registration and heartbeat rates per client source (the per-node ones go to the registry's `admit`): NodeMessageLimits on Node, the SourceLimits objects on a Worker. */
  nodeMessageLimits?: SourceLimiter;
  /** The client's IP address (the Node adapter's socket; a Worker's CF-Connecting-IP). */
  clientIp?: (c: Context) => string | undefined;
  /** Requests in progress at once, per caller (API key, MQTT client) and overall (InFlightLimiter defaults). */
  inFlight?: { maxPerCaller?: number; maxTotal?: number };
  /** The firmware bridge's devices and profiles: /v1/devices and /v1/profiles (admin) when given. */
  devices?: DeviceRegistry;
  /** SHA-256 for receipt digests (the Node adapter's `nodeSha256Hex`); WebCrypto's when absent. */
  sha256?: Sha256Hex;
  /** Counts and times for metrics (the Node builder's Prometheus metrics); `/metrics` serves `metricsText`. */
  observer?: GatewayObserver;
  metrics?: { text: () => Promise<string>; contentType: string };
  /** Signs every request forwarded to a node (the report key): nodes serve only gateways and oracles they know. */
  forwardKeys?: NodeKeyPair;
  /** Claims are taken as verified without an oracle (placement's setting): trust pushes never unverify then. */
  assumeLocationsVerified?: boolean;
  /** The verifiable response cache (cache/infer-cache.ts); none when absent. */
  cache?: InferCache;
  /** Recent requests' per-hop timings (GET /v1/traces/{requestId}); one is made when absent. */
  traces?: TraceBook;
  /** Version policies and rollouts (canaries, mirrors, automatic promotion and rollback): /v1/rollouts (admin) when given. */
  rollouts?: RolloutManager;
}

/** What createGatewayApp resolves once from its options; each route group takes the pieces it needs. */
export interface GatewayWiring {
  options: GatewayAppOptions;
  /** The port every route asks: the in-process Placement's (localPlacement), or the one given. */
  placement: GatewayPlacement;
  /** The in-process Placement where there is one: dashboards, trust pushes and re-runs reach it directly. */
  local: Placement | undefined;
  keys: KeyRing;
  limiter: KeyLimiter;
  catalog: ModelCatalog;
  service: InferService;
  usage: UsageBook;
  traces: TraceBook;
  /** Each request's metrics and log line (httpObservations); the direct infer path reports through it too. */
  observed: ReturnType<typeof httpObservations>;
  /** The dashboards, mounted only beside an in-process Placement. */
  dashboard: ReturnType<typeof mountDashboard> | undefined;
  /** An API key, metered against its rate and quota. */
  auth: MiddlewareHandler<GatewayEnv>;
  /** An admin API key, metered. */
  admin: MiddlewareHandler<GatewayEnv>;
  /** An API key, not metered: reading one's own usage or traces spends no quota. */
  authUnmetered: MiddlewareHandler<GatewayEnv>;
}
