import {
  HexEdgeError,
  canonicalBytes,
  tensorsDigestInput,
  RECEIPT_PARAMETER,
  sha256Hex,
  safeParseSignedReceipt,
  isBatchSigned,
  type BatchVerdict,
  type ReceiptVerdict,
  type Sha256Hex,
  type SignedReceipt,
  type Tensor,
  VerifiedRoots,
  verifyBatchSignedNow,
  verifyReceipt,
} from '@hexedge/protocol';

/**
 * Batch roots this gateway has verified (a node signs one root per batch of answers): each root's
 * signature is checked once, the other answers of its batch cost a leaf hash and a proof walk.
 */
const verifiedRoots = new VerifiedRoots();

/** What the receipt's digests must match: tensors for raw requests, JSON values for pipeline ones. */
export type ReceiptDigests =
  | { kind: 'tensors'; inputs: readonly Tensor[]; outputs: readonly Tensor[] }
  | { kind: 'json'; input: unknown; output: unknown };

/**
 * Checks a node's receipt against what the gateway itself sent and received: the signer is the node
 * we routed to, the model is the one asked for (name and version) with the content id the catalogue
 * lists for it (the node's own announcement only for a model the catalogue does not know), both
 * digests match, and the signature verifies (v1: the receipt's own; v2: its inclusion proof and the
 * batch root's, once per root). Any mismatch is RECEIPT_INVALID and the answer is not passed on.
 */
export async function checkReceipt(options: ReceiptCheckOptions): Promise<SignedReceipt> {
  return (await checkReceiptNow(options)).receipt;
}

export interface ReceiptCheckOptions {
  parameters: Record<string, unknown> | undefined;
  nodeId: string;
  requestId: string;
  modelName: string;
  modelVersion: string;
  modelContentId: string;
  digests: ReceiptDigests;
  /** The SHA-256 to digest with (the Node adapter injects node:crypto's, ~15× faster than WebCrypto's). */
  sha256?: Sha256Hex;
}

/**
 * `checkReceipt`, also giving the unsigned `metadata` the node wrote beside the receipt (queue and run
 * times for the trace), from the same parse of the receipt's JSON.
 */
export async function checkReceiptWithMetadata(options: ReceiptCheckOptions): Promise<CheckedReceipt> {
  return checkReceiptNow(options);
}

export interface CheckedReceipt {
  receipt: SignedReceipt;
  metadata: unknown;
}

/**
 * `checkReceiptWithMetadata`, answered without a promise whenever it can be: a synchronous `sha256`
 * (node:crypto's) and a v2 receipt whose batch root this gateway verified before (most answers under
 * load). A promise only for a root's signature check or an asynchronous hash, so the hot path pays no
 * promise hop per check. The same checks in the same order, the same errors; a refusal throws
 * synchronously (or rejects, on the asynchronous path).
 */
export function checkReceiptNow(options: ReceiptCheckOptions): CheckedReceipt | Promise<CheckedReceipt> {
  const sha256 = options.sha256 ?? sha256Hex;
  const raw = options.parameters?.[RECEIPT_PARAMETER];
  const mismatch = (what: string) =>
    new HexEdgeError('RECEIPT_INVALID', `receipt from node ${options.nodeId}: ${what}`);
  if (typeof raw !== 'string') throw mismatch('missing');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw mismatch('not JSON');
  }
  // The unsigned metadata sits beside the signed receipt; the rest goes through protocol's hand check
  // (zod's schema only for what that check does not take, so a malformed receipt gets zod's message).
  const isRecord = json !== null && typeof json === 'object' && !Array.isArray(json);
  const { metadata, ...signedPart } = (isRecord ? json : {}) as { metadata?: unknown };
  const parsed = safeParseSignedReceipt(isRecord ? signedPart : json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw mismatch(`malformed${issue ? ` (${issue.path.join('.')}: ${issue.message})` : ''}`);
  }
  const receipt = parsed.data;
  const b = receipt.body;
  if (b.nodeId !== options.nodeId) throw mismatch(`signed by ${b.nodeId}, not by the node that was asked`);
  if (b.requestId !== options.requestId)
    throw mismatch(`names request ${b.requestId}, expected ${options.requestId}`);
  if (b.modelName !== options.modelName || b.modelVersion !== options.modelVersion)
    throw mismatch(
      `names model ${b.modelName}@${b.modelVersion}, not the ${options.modelName}@${options.modelVersion} asked for`,
    );
  if (b.modelContentId !== options.modelContentId)
    throw mismatch(
      `model content id ${b.modelContentId} is not ${options.modelContentId}, the catalogue's for ${options.modelName}@${options.modelVersion}`,
    );
  const d = options.digests;
  const inputDigest = sha256(d.kind === 'tensors' ? tensorsDigestInput(d.inputs) : canonicalBytes(d.input));
  const outputDigest = sha256(
    d.kind === 'tensors' ? tensorsDigestInput(d.outputs) : canonicalBytes(d.output),
  );
  const fromDigests = (input: string, output: string): CheckedReceipt | Promise<CheckedReceipt> => {
    if (b.inputDigest !== input) throw mismatch('input digest does not match the request');
    if (b.outputDigest !== output) throw mismatch('output digest does not match the answer');
    const verdict = verifyReceiptNow(receipt, sha256);
    const fromVerdict = (v: { ok: true } | { ok: false; fault: string; message: string }) => {
      if (!v.ok) throw mismatch(`${v.fault}: ${v.message}`);
      return { receipt, metadata };
    };
    return verdict instanceof Promise ? verdict.then(fromVerdict) : fromVerdict(verdict);
  };
  if (typeof inputDigest === 'string' && typeof outputDigest === 'string')
    return fromDigests(inputDigest, outputDigest);
  return Promise.all([inputDigest, outputDigest]).then(([i, o]) => fromDigests(i, o));
}

/**
 * protocol's `verifyReceipt`, with a v2 receipt's verdict taken from `verifyBatchSignedNow` (no promise
 * when its root was verified before): the same checks and verdicts, the same roots cache.
 */
function verifyReceiptNow(
  receipt: SignedReceipt,
  sha256: Sha256Hex,
): BatchVerdict | ReceiptVerdict | Promise<BatchVerdict | ReceiptVerdict> {
  if (isBatchSigned(receipt))
    return verifyBatchSignedNow('receipt', receipt, { roots: verifiedRoots, sha256 });
  return verifyReceipt(receipt, { roots: verifiedRoots, sha256 });
}
