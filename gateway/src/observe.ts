/**
 * What the gateway reports about its own work, for metrics: runtime-neutral hooks the app and the
 * inference path call; the Node builder backs them with Prometheus metrics (node/metrics.ts). Each
 * hook is cheap and must not throw (an observer never fails a request).
 */
export interface GatewayObserver {
  /** One HTTP request: its route pattern (not the raw path: bounded labels), method, status, duration. */
  httpRequest(o: { route: string; method: string; status: number; seconds: number }): void;
  /** One inference through any channel: the model, ok or the error code, its placement and total time. */
  inference(o: {
    model: string;
    outcome: string;
    seconds: number;
    placementSeconds?: number;
    attempts?: number;
  }): void;
  /** One walk along the failover list: how many nodes were tried (more than one: a failover or a hedge). */
  walk(o: { attempts: number }): void;
  /** One node's receipt checked: signed by that node over what was sent and returned, or not. */
  receiptChecked(ok: boolean): void;
}

export const noObserver: GatewayObserver = {
  httpRequest: () => {},
  inference: () => {},
  walk: () => {},
  receiptChecked: () => {},
};

/**
 * The gateway's per-request observation (metrics and the access log line), taken once an answer
 * exists: hono's middleware and the Node listener's direct infer path both call it.
 */
export function httpObservations(options: {
  observer: GatewayObserver;
  log: (entry: Record<string, unknown>) => void;
}) {
  return (o: {
    route: string;
    method: string;
    path: string;
    status: number;
    startedMs: number;
    requestId: string | undefined;
    keyId: string | undefined;
  }): void => {
    options.observer.httpRequest({
      route: o.route,
      method: o.method,
      status: o.status,
      seconds: (performance.now() - o.startedMs) / 1000,
    });
    options.log({
      level: 'info',
      requestId: o.requestId,
      method: o.method,
      path: o.path,
      status: o.status,
      key: o.keyId,
      ms: Math.round((performance.now() - o.startedMs) * 1000) / 1000,
    });
  };
}
