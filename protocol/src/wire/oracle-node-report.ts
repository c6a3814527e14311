/**
 * What the oracle tells anyone about one node (`GET /v1/oracle/nodes/{nodeId}`), as the gateway's
 * operator view reads it: the verdicts behind its trust, its rewards and the latest manifest entry
 * with the Merkle proof that it is in the signed root. The oracle sends more fields than these.
 */
export const oracleNodeReportPath = (nodeId: string) => `/v1/oracle/nodes/${encodeURIComponent(nodeId)}`;

export interface OracleNodeReport {
  /** Spot checks, location proofs, PoC and availability verdicts, newest first. */
  verdicts: { kind: string; status: string; reason?: string; atMs: number }[];
  /** Rewards per epoch, oldest first; amounts are integers as decimal strings. */
  rewards: { epoch: number; amountBaseUnits: string }[];
  /** The node's entry in the latest signed manifest, with the Merkle proof that it is in the root. */
  manifestEntry?: {
    epoch: number;
    entry: Record<string, string>;
    merkleRoot: string;
    proof: { leafIndex: number; siblings: { hash: string; position: 'left' | 'right' }[] };
  };
  trustComponents?: Record<string, number>;
}
