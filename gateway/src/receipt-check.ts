import {
  HexEdgeError,
  isValidSignature,
  RECEIPT_PARAMETER,
  signedReceiptSchema,
  tensorsDigest,
  type SignedReceipt,
  type Tensor,
} from '@hexedge/protocol';

/**
 * Checks a node's receipt against what the gateway itself sent and received: the signer is the node
 * we routed to, the model bytes are the ones it announced, both digests match, and the signature
 * verifies. Any mismatch is RECEIPT_INVALID and the answer is not passed on.
 */
export async function checkReceipt(options: {
  parameters: Record<string, unknown> | undefined;
  nodeId: string;
  requestId: string;
  modelContentId: string;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
}): Promise<SignedReceipt> {
  const raw = options.parameters?.[RECEIPT_PARAMETER];
  if (typeof raw !== 'string') throw new HexEdgeError('RECEIPT_INVALID', `node ${options.nodeId} sent no receipt`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HexEdgeError('RECEIPT_INVALID', `node ${options.nodeId} sent a receipt that is not JSON`);
  }
  const parsed = signedReceiptSchema.safeParse(json);
  if (!parsed.success) throw new HexEdgeError('RECEIPT_INVALID', `node ${options.nodeId} sent a malformed receipt`);
  const receipt = parsed.data;
  const b = receipt.body;
  const mismatch = (what: string) => new HexEdgeError('RECEIPT_INVALID', `receipt from node ${options.nodeId}: ${what}`);
  if (b.nodeId !== options.nodeId) throw mismatch(`signed by ${b.nodeId}, not by the node that was asked`);
  if (b.requestId !== options.requestId) throw mismatch(`names request ${b.requestId}, expected ${options.requestId}`);
  if (b.modelContentId !== options.modelContentId) throw mismatch(`model content id ${b.modelContentId} is not the announced ${options.modelContentId}`);
  if (b.inputDigest !== (await tensorsDigest(options.inputs))) throw mismatch('input digest does not match the request');
  if (b.outputDigest !== (await tensorsDigest(options.outputs))) throw mismatch('output digest does not match the answer');
  if (!(await isValidSignature('receipt', receipt))) throw mismatch('signature does not verify');
  return receipt;
}
