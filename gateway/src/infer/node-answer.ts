import {
  checkTensor,
  isHexEdgeError,
  predictResponseSchema,
  type InferRequest,
  type NodeModel,
  type Sha256Hex,
  type SignedReceipt,
  type Tensor,
} from '@hexedge/protocol';
import type { NodeRecord } from '@hexedge/placement';
import { readOipAnswer } from './answer-shape.ts';
import { NodeFault } from './node-fault.ts';
import type { NodeAnswer } from './node-client.ts';
import { checkReceiptNow, type CheckedReceipt, type ReceiptDigests } from './receipt-check.ts';

export interface CheckedAnswer {
  outputs: Tensor[] | undefined;
  output: unknown;
  receipt: SignedReceipt;
  /** The unsigned metadata the node wrote beside its receipt (raw: the trace decides what to keep). */
  receiptMetadata: unknown;
  version: string;
}

/**
 * Judges what a node answered to a request the gateway sent it. Anything but a well-formed 200 with a
 * receipt that checks out is a NodeFault: the walk moves on to the next node. A 4xx is the node's
 * fault too — outright when the gateway had checked the request against the catalogue (`validated`),
 * otherwise judged by what the other nodes answer (InferService) — and its text is never passed on.
 */
export async function checkNodeAnswer(a: NodeAnswerCheck): Promise<CheckedAnswer> {
  return checkNodeAnswerNow(a);
}

export interface NodeAnswerCheck {
  answer: NodeAnswer;
  node: NodeRecord;
  entry: NodeModel;
  request: InferRequest;
  requestId: string;
  inputs: Tensor[] | undefined;
  validated: boolean;
  /** The catalogue's content id for this name@version (the node's own announcement only for a model it does not list). */
  contentId: string;
  sha256?: Sha256Hex;
  /** Each receipt checked, and whether it held (metrics). */
  onReceiptChecked?: (ok: boolean) => void;
  log: (message: string) => void;
}

/**
 * `checkNodeAnswer`, answered without a promise when the receipt check needs none (checkReceiptNow: a
 * root verified before, a synchronous hash): a fault throws synchronously, or rejects on the
 * asynchronous path. The same checks and faults.
 */
export function checkNodeAnswerNow(a: NodeAnswerCheck): CheckedAnswer | Promise<CheckedAnswer> {
  const { answer, node } = a;
  const nodeId = node.id;
  if (answer.status !== 200) {
    const code = (answer.body as { code?: unknown } | null)?.code;
    const overloaded = answer.status === 429 || (answer.status === 503 && code === 'OVERLOADED');
    const refused = answer.status >= 400 && answer.status < 500 && !overloaded;
    // A node refusing the gateway itself (401/403: it does not know this gateway's key, or will not
    // serve it) is a fault of the node whatever the request: no other node's answer can excuse it.
    const refusedGateway = answer.status === 401 || answer.status === 403;
    throw new NodeFault({
      nodeId,
      kind: refused ? 'refused' : 'server-error',
      httpStatus: answer.status,
      validated: a.validated || refusedGateway,
      overloaded,
    });
  }
  let digests: ReceiptDigests;
  let outputs: Tensor[] | undefined;
  let output: unknown;
  let parameters: Record<string, unknown> | undefined;
  if (a.inputs) {
    const parsed = readOipAnswer(answer.body);
    if (!parsed) throw new NodeFault({ nodeId, kind: 'malformed' });
    try {
      outputs = parsed.outputs.map((o) => checkTensor(o as Parameters<typeof checkTensor>[0]));
    } catch (err) {
      // A node's malformed output is the node's fault, not the request's: fail over.
      a.log(`node ${nodeId} sent a bad output: ${(err as Error).message}`);
      throw new NodeFault({ nodeId, kind: 'malformed' });
    }
    parameters = parsed.parameters;
    digests = { kind: 'tensors', inputs: a.inputs, outputs };
  } else {
    const parsed = predictResponseSchema.safeParse(answer.body);
    if (!parsed.success) throw new NodeFault({ nodeId, kind: 'malformed' });
    output = parsed.data.output;
    parameters = parsed.data.parameters;
    digests = { kind: 'json', input: a.request.input, output };
  }
  const checked = ({ receipt, metadata }: CheckedReceipt): CheckedAnswer => {
    a.onReceiptChecked?.(true);
    return { outputs, output, receipt, receiptMetadata: metadata, version: a.entry.version };
  };
  const refused = (err: unknown): never => {
    a.onReceiptChecked?.(false);
    // The details (which digest, which signer) go to the log; the caller learns only that it failed.
    a.log(`request ${a.requestId}: ${isHexEdgeError(err) ? err.message : String(err)}`);
    throw new NodeFault({ nodeId, kind: 'bad-receipt' });
  };
  try {
    const receipt = checkReceiptNow({
      parameters,
      nodeId,
      requestId: a.requestId,
      modelName: a.request.model,
      modelVersion: a.entry.version,
      modelContentId: a.contentId,
      digests,
      ...(a.sha256 ? { sha256: a.sha256 } : {}),
    });
    return receipt instanceof Promise ? receipt.then(checked).catch(refused) : checked(receipt);
  } catch (err) {
    return refused(err);
  }
}
