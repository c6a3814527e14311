import {
  checkTensor,
  jsonDigest,
  signedReceiptSchema,
  tensorsDigest,
  verifyReceipt as verifyReceiptSignature,
  type Tensor,
} from '@hexedge/protocol';
import type { InferRequest, InferResponse, SignedReceipt } from './api-types.ts';

/** Why a receipt does not hold (a value, not an exception: keep it, show it, report it). */
export type ReceiptProblem =
  | 'MALFORMED'
  | 'WRONG_SIGNER'
  | 'WRONG_REQUEST'
  | 'WRONG_MODEL'
  | 'WRONG_CONTENT_ID'
  | 'INPUT_DIGEST'
  | 'OUTPUT_DIGEST'
  | 'BAD_SIGNATURE';

export type ReceiptVerdict =
  | { valid: true; receipt: SignedReceipt; nodeId: string }
  | { valid: false; problem: ReceiptProblem; message: string };

/**
 * Checks an inference answer's receipt offline, with @hexedge/protocol's own functions (the ones the
 * gateway and the oracle use): the receipt is signed (Ed25519, the `receipt` domain) by the node's
 * key — `nodeId` when you pin one (a node id is its public key), else the node the answer names —
 * and its input and output digests are those of what you sent and what came back (tensors digested
 * as the model saw them, domain values as canonical JSON). It names your request id and model; with
 * `modelContentId` (from `GET /v1/models`), the exact model artifact too. Needs no network.
 */
export async function verifyReceipt(options: {
  request: InferRequest;
  response: InferResponse;
  nodeId?: string;
  modelContentId?: string;
}): Promise<ReceiptVerdict> {
  const { request, response } = options;
  const bad = (problem: ReceiptProblem, message: string): ReceiptVerdict => ({
    valid: false,
    problem,
    message,
  });
  const parsed = signedReceiptSchema.safeParse(response.receipt);
  if (!parsed.success)
    return bad(
      'MALFORMED',
      `receipt ${parsed.error.issues[0]?.path.join('.') || ''}: ${parsed.error.issues[0]?.message}`,
    );
  const receipt = parsed.data;
  const b = receipt.body;
  const signer = options.nodeId ?? response.node.id;
  if (b.nodeId !== signer) return bad('WRONG_SIGNER', `receipt is signed by ${b.nodeId}, not by ${signer}`);
  if (b.requestId !== response.id || (request.id !== undefined && b.requestId !== request.id))
    return bad('WRONG_REQUEST', `receipt names request ${b.requestId}, not ${request.id ?? response.id}`);
  const version = request.version ?? response.model_version;
  if (b.modelName !== request.model || b.modelVersion !== version)
    return bad(
      'WRONG_MODEL',
      `receipt names model ${b.modelName}@${b.modelVersion}, not ${request.model}@${version}`,
    );
  if (options.modelContentId !== undefined && b.modelContentId !== options.modelContentId)
    return bad(
      'WRONG_CONTENT_ID',
      `receipt names artifact ${b.modelContentId}, not ${options.modelContentId}`,
    );
  let digests: [string, string];
  try {
    digests = request.inputs
      ? await Promise.all([
          tensorsDigest(request.inputs.map(asTensor)),
          tensorsDigest((response.outputs ?? []).map(asTensor)),
        ])
      : await Promise.all([jsonDigest(request.input), jsonDigest(response.output)]);
  } catch (err) {
    return bad('MALFORMED', `tensors cannot be digested: ${(err as Error).message}`);
  }
  if (b.inputDigest !== digests[0])
    return bad('INPUT_DIGEST', 'the input digest is not that of the request sent');
  if (b.outputDigest !== digests[1])
    return bad('OUTPUT_DIGEST', 'the output digest is not that of the answer received');
  // v1: the node's own signature; v2 (batch-signed): the leaf's proof up to the root the node signed.
  const signature = await verifyReceiptSignature(receipt);
  if (!signature.ok)
    return bad('BAD_SIGNATURE', `the signature does not verify for node ${b.nodeId}: ${signature.message}`);
  return { valid: true, receipt, nodeId: b.nodeId };
}

/** A JSON tensor as the node saw it (checked and flattened; values normalised by its datatype). */
const asTensor = (t: {
  name: string;
  datatype: Tensor['datatype'];
  shape: number[];
  data: unknown;
}): Tensor => checkTensor(t as Parameters<typeof checkTensor>[0]);
