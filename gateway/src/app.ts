import {
  HexEdgeError,
  MAX_INFER_BODY_BYTES,
  MAX_RERUN_BODY_BYTES,
  MAX_TRUST_PUSH_BYTES,
  type NodeKeyPair,
  type InferRequest,
  type InferResponse,
  type Sha256Hex,
} from '@hexedge/protocol';
import type { DeviceRegistry } from '@hexedge/firmware-bridge';
import { Placement, type NodeRecord } from '@hexedge/placement';
import type { Context } from 'hono';
import { requestId } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import { declaredBodyLimit } from './body-limit.ts';
import { httpObservations, noObserver, type GatewayObserver } from './observe.ts';
import { registerDirectInfer } from './infer/direct-infer.ts';
import { publicCors } from './cors.ts';
import { requireApiKey } from './auth.ts';
import { MemoryModelCatalog, type ModelCatalog } from './catalog.ts';
import { localPlacement, type GatewayPlacement } from './gateway-placement.ts';
import { errorResponse } from './http-errors.ts';
import { ForwardBatcher } from './infer/forward-batcher.ts';
import { InFlightLimiter } from './infer/in-flight.ts';
import { InferService } from './infer/infer-service.ts';
import type { Caller, InferServiceOptions } from './infer/infer-ports.ts';
import type { ObservedNodeFault } from './infer/node-fault.ts';
import { fetchNodeClient, type NodeAnswer, type NodeClient } from './infer/node-client.ts';
import type { KeyRing } from './keys/key-ring.ts';
import { RateLimiter, type KeyLimiter } from './keys/rate-limit.ts';
import {
  artifactRoute,
  catalogRoute,
  createKeyRoute,
  inferRoute,
  listKeysRoute,
  manifestRoute,
  peersRoute,
  revokeKeyRoute,
  traceRoute,
  usageRoute,
} from './openapi/api-routes.ts';
import { docsPage, openApiDocument } from './openapi/document.ts';
import { createGatewayHono, mount, type GatewayApp } from './openapi/mount.ts';
import { mountHeadersCheckedByHandler } from './openapi/mount-hot.ts';
import {
  desiredModelsRoute,
  heartbeatRoute,
  nearestRoute,
  nodeListRoute,
  nodeRoute,
  registerRoute,
} from './openapi/node-routes.ts';
import { coverageRoute, rerunRoute, trustRoute } from './openapi/oracle-routes.ts';
import {
  docsRoute,
  healthRoute,
  identityRoute,
  metricsRoute,
  openApiRoute,
} from './openapi/service-routes.ts';
import { inferCall, inferHandler } from './routes/infer.ts';
import { keyHandlers } from './routes/keys.ts';
import { catalogHandler, originHandlers, peersHandler } from './routes/models.ts';
import { mountDashboard, type DashboardOptions } from './routes/dashboard.ts';
import { mountDeviceRoutes } from './routes/devices.ts';
import type { NodeUrlPolicy } from './node-urls.ts';
import type { SourceLimiter } from './routes/node-message-limits.ts';
import { desiredModelsHandler, nearestHandler, nodeHandler, registrationHandlers } from './routes/nodes.ts';
import {
  coverageProxyHandler,
  nodeListHandler,
  oracleTrustHandler,
  placementTrustSink,
  type SeqStore,
  type TrustSink,
} from './routes/oracle.ts';
import { oracleRerunHandler, type RerunNonces } from './routes/oracle-rerun.ts';
import { mountRolloutRoutes } from './routes/rollouts.ts';
import type { RolloutManager } from './rollouts/rollout-manager.ts';
import { UsageBook } from './usage.ts';
import type { InferCache } from './cache/infer-cache.ts';
import { TraceBook } from './trace/trace-book.ts';
import { traceHandler } from './trace/trace-routes.ts';

/** Registration and heartbeat bodies are small; 256 KiB leaves room for a node with many models. */
export const MAX_NODE_MESSAGE_BYTES = 256 * 1024;
export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

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

const limit = declaredBodyLimit;

/** CORS for every route (cors.ts); the direct infer path sets the same headers. */
const CORS = {
  allowHeaders: [
    'Authorization',
    'Content-Type',
    'Cache-Control',
    'traceparent',
    'X-HexEdge-Priority',
    'X-HexEdge-Deadline-Ms',
  ],
  exposeHeaders: [
    'X-Request-Id',
    'X-HexEdge-Cache',
    'traceparent',
    'Retry-After',
    'RateLimit-Limit',
    'RateLimit-Remaining',
    'RateLimit-Reset',
  ],
};

/** The route pattern that answered (`/v1/nodes/:id`), never the raw path, so metric labels stay bounded. */
function respondingRoute(c: Context): string {
  const route = matchedRoutes(c)[c.req.routeIndex];
  return route && route.path !== '/*' && route.path !== '*' ? route.path : 'unmatched';
}
/**
 * Forwards carry a MAC to nodes that take them, else a signature, in batches (one per event-loop turn's
 * worth of requests); nodes' answers say which they take (forward-batcher.ts).
 */
const forwardSigner = (keys: NodeKeyPair, sha256: Sha256Hex | undefined) => {
  const batcher = new ForwardBatcher({ keys, ...(sha256 ? { sha256 } : {}) });
  return {
    signForward: (target: Parameters<NonNullable<InferServiceOptions['signForward']>>[0]) =>
      batcher.sign(target),
    forwardAnswered: (nodeId: string, answer: NodeAnswer, sent: Record<string, string> | undefined) =>
      batcher.answered(nodeId, answer, sent),
  };
};

/** The gateway's HTTP API as a runtime-neutral hono app (served by the Node adapter, later a Worker). */
export function createGatewayApp(options: GatewayAppOptions): {
  app: GatewayApp;
  service: InferService;
  usage: UsageBook;
  limiter: KeyLimiter;
  traces: TraceBook;
} {
  const { keys } = options;
  const local = options.placement instanceof Placement ? options.placement : undefined;
  const placement = local ? localPlacement(local) : (options.placement as GatewayPlacement);
  const isReady = options.isReady ?? (() => true);
  const log = options.log ?? (() => {});
  const limiter: KeyLimiter = options.limiter ?? new RateLimiter();
  const usage = new UsageBook();
  const catalog = options.catalog ?? new MemoryModelCatalog();
  const traces = options.traces ?? new TraceBook();
  const service = new InferService({
    placement,
    nodeClient: options.nodeClient ?? fetchNodeClient,
    log: (msg) => log({ level: 'warn', msg }),
    ...(options.onAnswered ? { onAnswered: options.onAnswered } : {}),
    ...(options.onNodeFault ? { onNodeFault: options.onNodeFault } : {}),
    ...(catalog.manifest ? { manifestOf: (contentId: string) => catalog.manifest!(contentId) } : {}),
    inFlight: new InFlightLimiter(options.inFlight ?? {}),
    ...(options.sha256 ? { sha256: options.sha256 } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    catalogue: catalog,
    ...(options.forwardKeys ? forwardSigner(options.forwardKeys, options.sha256) : {}),
    ...(options.cache ? { cache: options.cache } : {}),
    traces,
    ...(options.rollouts ? { versions: options.rollouts } : {}),
  });
  const observer = options.observer ?? noObserver;
  const app = createGatewayHono();

  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(publicCors(CORS));
  const observed = httpObservations({ observer, log });
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    observed({
      route: respondingRoute(c),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      startedMs: started,
      requestId: c.get('requestId'),
      keyId: c.get('apiKey')?.id,
    });
  });
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) =>
    errorResponse(c, new HexEdgeError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)),
  );

  const dashboard = local
    ? mountDashboard(app, {
        ...options.dashboard,
        ...(options.clientIp ? { clientIp: options.clientIp } : {}),
        placement: local,
        keys,
        limiter,
      })
    : undefined;

  mount(app, healthRoute, (c) => {
    const parts = options.parts?.() ?? {};
    const ok = isReady() && Object.values(parts).every((state) => state === 'up');
    return c.json({ ok, parts }, ok ? 200 : 503);
  });
  if (options.reporterId) {
    const identity = {
      reporterId: options.reporterId,
      reporterIds: [...new Set([options.reporterId, ...(options.siblingReporterIds ?? [])])],
      algorithm: 'Ed25519',
      encoding: 'base64url raw 32 bytes',
    };
    mount(app, identityRoute, (c) => c.json(identity));
  }
  // Generated on first use, once every route (the Worker adds one after this function) is registered.
  let doc: Record<string, unknown> | undefined;
  const document = () => (doc ??= openApiDocument(app as never));
  mount(app, openApiRoute, (c) => c.json(document()));
  const metrics = options.metrics;
  if (metrics)
    mount(app, metricsRoute, async (c) =>
      c.text(await metrics.text(), 200, { 'content-type': metrics.contentType }),
    );
  mount(app, docsRoute, (c) => c.html(docsPage(document())));

  const nodes = registrationHandlers(placement, {
    nodeUrls: options.nodeUrls ?? { allowPrivate: false },
    ...(options.nodeMessageLimits ? { limits: options.nodeMessageLimits } : {}),
    ...(options.clientIp ? { clientIp: options.clientIp } : {}),
  });
  mount(app, registerRoute, limit(MAX_NODE_MESSAGE_BYTES), nodes.register);
  mount(app, heartbeatRoute, limit(MAX_NODE_MESSAGE_BYTES), nodes.heartbeat);

  const auth = requireApiKey({ keys, limiter });
  const admin = requireApiKey({ keys, limiter, role: 'admin' });
  const authUnmetered = requireApiKey({ keys, limiter, metered: false });
  mount(app, nearestRoute, auth, nearestHandler(placement));
  mount(app, desiredModelsRoute, desiredModelsHandler({ placement, catalog }));
  mount(app, nodeRoute, nodeHandler(placement));
  mount(app, nodeListRoute, nodeListHandler(placement));
  if (options.oracle) {
    mount(app, coverageRoute, coverageProxyHandler({ oracleUrl: options.oracle.url }));
    const trustTarget = local ? placementTrustSink(local) : options.trustSink;
    if (trustTarget)
      mount(
        app,
        trustRoute,
        limit(MAX_TRUST_PUSH_BYTES),
        oracleTrustHandler({
          placement: trustTarget,
          oracleIds: options.oracle.oracleIds,
          assumeLocationsVerified: options.assumeLocationsVerified ?? false,
          ...(options.trustSeqs ? { seqs: options.trustSeqs } : {}),
        }),
      );
    const reruns = local ? { nodeOf: (id: string) => local.registry.get(id) } : options.reruns;
    if (reruns)
      mount(
        app,
        rerunRoute,
        limit(MAX_RERUN_BODY_BYTES),
        oracleRerunHandler({
          service,
          ...reruns,
          oracleIds: options.oracle.oracleIds,
          traces,
        }),
      );
  }
  mountHeadersCheckedByHandler(
    app,
    inferRoute,
    auth,
    limit(MAX_INFER_BODY_BYTES),
    inferHandler({ service, usage }),
  );
  // The same route for the Node listener's direct path (node/infer-listener.ts): same steps, same answers.
  registerDirectInfer(app, {
    keys,
    limiter,
    infer: inferCall({ service, usage }),
    maxBodyBytes: MAX_INFER_BODY_BYTES,
    exposeHeaders: CORS.exposeHeaders.join(','),
    observed,
    ...(dashboard ? { recordInfer: dashboard.recordInfer } : {}),
  });
  mount(app, traceRoute, authUnmetered, traceHandler(traces));
  mount(app, usageRoute, authUnmetered, async (c) => {
    const key = c.get('apiKey');
    return c.json({
      key: {
        id: key.id,
        name: key.name,
        dailyQuota: key.dailyQuota,
        usedToday: await limiter.usedToday(key),
      },
      ...usage.report(key.id),
    });
  });

  mount(app, catalogRoute, catalogHandler({ catalog, healthyNodes: () => placement.healthyNodes() }));
  const origin = originHandlers(catalog);
  mount(app, manifestRoute, origin.manifest);
  mount(app, artifactRoute, origin.artifact);
  mount(app, peersRoute, peersHandler({ nearest: (q) => placement.nearest(q) }));

  const k = keyHandlers(keys);
  mount(app, createKeyRoute, admin, limit(MAX_ADMIN_BODY_BYTES), k.create);
  mount(app, listKeysRoute, admin, k.list);
  mount(app, revokeKeyRoute, admin, k.revoke);
  if (options.devices) mountDeviceRoutes(app, { registry: options.devices, admin });
  if (options.rollouts) mountRolloutRoutes(app, { manager: options.rollouts, admin });
  return { app, service, usage, limiter, traces };
}
