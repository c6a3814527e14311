import type { OracleNodeReport, PospReport } from '@hexedge/protocol';
import { HexEdgeError } from '@hexedge/protocol';
import type { Placement } from '@hexedge/placement';
import type { Context } from 'hono';
import type { RequestLog } from '../events/request-log.ts';

/**
 * What the coverage oracle knows of a node, in the shape the operator view shows. The oracle
 * package's own records (Verdict, RewardEntry, MerkleProof) fit it structurally; the gateway does not
 * import the oracle, so whoever wires it (the composition root) adapts its store to this.
 */
export type { OracleNodeReport };

export interface OracleReader {
  nodeReport(nodeId: string): Promise<OracleNodeReport | undefined>;
  /** Radio evidence for a hex (best witnessed signal), when the oracle has any. */
  hexSignal?(cell: string): Promise<{ rssiDbm: number; snrDb: number; witnesses: number } | undefined>;
  /** The proof-of-sampling condition this epoch (sampling rate × slash ≥ gain) and the verification compute. */
  posp?(): Promise<PospReport | undefined>;
}

/**
 * GET /v1/nodes/{id}/operator (public, like /v1/nodes/{id}): everything the operator view shows,
 * with the network's proof-of-sampling condition (why cheating does not pay, in numbers).
 * `oracle` is null when no oracle is wired (`hexedge dev` today): the view says so instead of
 * showing zeros that would read as "checked and found nothing".
 */
export function operatorHandler(options: {
  placement: Placement;
  requests: RequestLog;
  oracle: OracleReader | undefined;
}) {
  return async (c: Context) => {
    const id = c.req.param('id')!;
    const { placement } = options;
    const node = placement.registry.get(id);
    if (!node)
      throw new HexEdgeError(
        'UNKNOWN_NODE',
        `no node with id ${JSON.stringify(id.slice(0, 80))} is registered`,
      );
    return c.json({
      id: node.id,
      status: placement.registry.statusOf(node),
      cell: node.cell,
      lat: node.location.lat,
      lng: node.location.lng,
      regions: node.regions,
      locationVerified: node.locationVerified,
      hardware: node.hardware,
      models: node.models,
      draining: node.draining,
      pricePerRequest: node.pricePerRequest,
      registeredAtMs: node.registeredAtMs,
      lastHeartbeatAtMs: node.lastHeartbeatAtMs,
      heartbeatIntervalMs: placement.registry.heartbeatIntervalMs,
      served: options.requests.nodeStats(node.id),
      trust: placement.getTrust(node.id),
      oracle: (await options.oracle?.nodeReport(node.id)) ?? null,
      posp: (await options.oracle?.posp?.()) ?? null,
    });
  };
}
