// The inference path: the InferService built from the options (node client, signing, cache,
// rollouts, observers), and the routes that call it: POST /v1/infer through hono and through the
// Node listener's direct path (the same steps, so the same answers), then a caller's traces and usage.
import { MAX_INFER_BODY_BYTES, type NodeKeyPair, type Sha256Hex } from '@hexedge/protocol';
import { declaredBodyLimit } from '../body-limit.ts';
import type { ModelCatalog } from '../catalog.ts';
import type { GatewayPlacement } from '../gateway-placement.ts';
import { registerDirectInfer } from '../infer/direct-infer.ts';
import { ForwardBatcher } from '../infer/forward-batcher.ts';
import { InFlightLimiter } from '../infer/in-flight.ts';
import { InferService } from '../infer/infer-service.ts';
import type { InferServiceOptions } from '../infer/infer-ports.ts';
import { fetchNodeClient, type NodeAnswer } from '../infer/node-client.ts';
import { inferRoute, traceRoute, usageRoute } from '../openapi/api-routes.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import { mountHeadersCheckedByHandler } from '../openapi/mount-hot.ts';
import { inferCall, inferHandler } from '../routes/infer.ts';
import type { TraceBook } from '../trace/trace-book.ts';
import { traceHandler } from '../trace/trace-routes.ts';
import { CORS } from './middleware.ts';
import type { GatewayAppOptions, GatewayWiring } from './options.ts';

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

export function createInferService(o: {
  options: GatewayAppOptions;
  placement: GatewayPlacement;
  catalog: ModelCatalog;
  traces: TraceBook;
  log: (entry: Record<string, unknown>) => void;
}): InferService {
  const { options, catalog, log } = o;
  return new InferService({
    placement: o.placement,
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
    traces: o.traces,
    ...(options.rollouts ? { versions: options.rollouts } : {}),
  });
}

export function mountInferRoutes(
  app: GatewayApp,
  wiring: Pick<
    GatewayWiring,
    'keys' | 'limiter' | 'service' | 'usage' | 'traces' | 'observed' | 'dashboard' | 'auth' | 'authUnmetered'
  >,
): void {
  const { keys, limiter, service, usage, traces, observed, dashboard, auth, authUnmetered } = wiring;
  mountHeadersCheckedByHandler(
    app,
    inferRoute,
    auth,
    declaredBodyLimit(MAX_INFER_BODY_BYTES),
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
}
