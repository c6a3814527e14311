import { z } from 'zod';
import { nodeIdSchema } from '../schemas/node.ts';

/**
 * How a node failed a request the gateway had validated, as the gateway saw it (no node text: the
 * kind and status are the gateway's own observation):
 * - `refused`: a 4xx to a request the gateway checked against the catalogue (or that another node served);
 * - `server-error`: a 5xx or an unexpected status; `unreachable`: no connection; `timeout`: no answer in time;
 * - `malformed`: not an OIP answer, or outputs that do not fit their shapes; `oversized`: an answer past MAX_NODE_ANSWER_BYTES;
 * - `bad-receipt`: a receipt that does not check out (signer, request, model, digests, signature);
 * - `wrong-model`: it announces a name@version the catalogue lists with other bytes, or a version the catalogue does not list.
 */
export const NODE_FAULT_KINDS = [
  'refused',
  'server-error',
  'unreachable',
  'timeout',
  'malformed',
  'oversized',
  'bad-receipt',
  'wrong-model',
] as const;
export type NodeFaultKind = (typeof NODE_FAULT_KINDS)[number];

/**
 * A gateway's signed report of a node fault (`POST /v1/oracle/reports`, `type: 'node-fault'`, kind
 * 'report' by the gateway's report key, like forwarded receipts). Evidence for the oracle, kept as a
 * verdict; `count` folds repeats of one kind from one node in one report window.
 */
export const nodeFaultReportBodySchema = z.object({
  type: z.literal('node-fault'),
  nodeId: nodeIdSchema,
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, 'must be 16–48 random bytes in base64url'),
  issuedAtMs: z.number().int().nonnegative(),
  targetNodeId: nodeIdSchema,
  fault: z.object({
    kind: z.enum(NODE_FAULT_KINDS),
    /** The node's HTTP status, when it answered. */
    httpStatus: z.number().int().min(100).max(599).optional(),
    modelName: z.string().min(1).max(128),
    /** The first request of the window that failed this way. */
    requestId: z.string().min(1).max(128),
    firstAtMs: z.number().int().nonnegative(),
    lastAtMs: z.number().int().nonnegative(),
    count: z.number().int().min(1).max(1_000_000),
  }),
});

export type NodeFaultReportBody = z.infer<typeof nodeFaultReportBodySchema>;
