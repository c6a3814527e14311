import { z } from 'zod';
import { SIGNATURE_PATTERN, type NodeKeyPair } from '../identity.ts';
import { nodeIdSchema } from '../schemas/node.ts';
import { signBody, type Signed } from '../signing.ts';
import { randomNonce } from './latency-challenge.ts';
import { inferenceRequestSchema } from './oracle-reports.ts';

/**
 * A spot-check re-run, sent by the oracle to the gateway a checker node is registered with
 * (`POST {gateway}/v1/oracle/rerun`, signed by the oracle with kind 'report' and a type no ingest
 * report uses). The gateway forwards it to the node exactly as it forwards live traffic (same route,
 * same signature, same headers, same client), so a node cannot tell a check from a customer and be
 * honest only when checked. The answer is the node's OIP response as it came back.
 */
export const RERUN_PATH = '/v1/oracle/rerun';
/** A re-run carries one request's inputs: the gateway's own `/v1/infer` limit. */
export const MAX_RERUN_BODY_BYTES = 8 * 1024 * 1024;
/** An older re-run is refused, and nonces are remembered this long. */
export const MAX_RERUN_AGE_MS = 60_000;

export const rerunBodySchema = z.object({
  type: z.literal('oracle-rerun'),
  nodeId: nodeIdSchema,
  targetNodeId: nodeIdSchema,
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/),
  issuedAtMs: z.number().int().nonnegative(),
  request: inferenceRequestSchema,
});
export const signedRerunSchema = z.object({
  body: rerunBodySchema,
  signature: z.string().regex(SIGNATURE_PATTERN),
});
export type RerunBody = z.infer<typeof rerunBodySchema>;

export function signRerun(options: {
  oracle: NodeKeyPair;
  targetNodeId: string;
  request: RerunBody['request'];
  nowMs: number;
}): Promise<Signed<RerunBody>> {
  const body: RerunBody = {
    type: 'oracle-rerun',
    nodeId: options.oracle.nodeId,
    targetNodeId: options.targetNodeId,
    nonce: randomNonce(),
    issuedAtMs: options.nowMs,
    request: options.request,
  };
  return signBody('report', body, options.oracle.privateKey);
}
