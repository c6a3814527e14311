import { HexEdgeError } from '@hexedge/protocol';
import type { Context } from 'hono';
import type { GatewayEnv } from '../auth.ts';
import type { TraceBook } from './trace-book.ts';

/**
 * GET /v1/traces/{requestId} (key): the per-hop timings of one of the caller's own recent requests —
 * placement, cache, each node tried with its queue and run, the receipt check, and any spot check
 * the oracle ran on it later. Another tenant's request is 404 like an unknown one (no probing); an
 * admin key sees every tenant's requests with that id (devices', the bridge's).
 */
export function traceHandler(traces: TraceBook) {
  return (c: Context<GatewayEnv>) => {
    const key = c.get('apiKey');
    const requestId = c.req.param('requestId')!;
    const found =
      key.role === 'admin'
        ? traces.find(requestId)
        : [traces.get(`key:${key.id}`, requestId)].filter((t) => t !== undefined);
    if (found.length === 0)
      throw new HexEdgeError(
        'NOT_FOUND',
        `no recent request ${JSON.stringify(requestId.slice(0, 128))} of this key (traces are kept for the last ${traces.size} requests)`,
      );
    return c.json({ traces: found });
  };
}
