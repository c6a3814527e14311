import type { Sha256Hex } from '../encoding.ts';
import { isValidSignature } from '../signing.ts';
import type { SignedReceipt } from '../schemas/receipt.ts';
import { safeParseSignedReceipt } from '../schemas/receipt-fast-parse.ts';
import {
  isBatchSigned,
  verifyBatchSigned,
  type BatchFault,
  type BatchVerifyOptions,
} from './batch-signing.ts';
import type { VerifiedRoots } from './verified-roots.ts';

/** Why a receipt does not verify: a batch fault, SIGNATURE (a v1 receipt's own signature), or MALFORMED. */
export type ReceiptFault = BatchFault | 'SIGNATURE';
export type ReceiptVerdict =
  { ok: true; version: 1 | 2; cachedRoot: boolean } | { ok: false; fault: ReceiptFault; message: string };

/**
 * Whether a node signed this receipt, in either wire version: v1 by its own signature, v2 by its leaf,
 * inclusion proof and signed root (the root's signature checked once per `roots` cache). Pure and
 * offline: everything needed is in the receipt. What the receipt *says* (request, model, digests) is
 * for the caller to compare with what it knows.
 */
export async function verifyReceipt(
  receipt: SignedReceipt,
  options: BatchVerifyOptions = {},
): Promise<ReceiptVerdict> {
  if (isBatchSigned(receipt)) {
    const verdict = await verifyBatchSigned('receipt', receipt, options);
    return verdict.ok ? { ok: true, version: 2, cachedRoot: verdict.cachedRoot } : verdict;
  }
  if (await isValidSignature('receipt', receipt)) return { ok: true, version: 1, cachedRoot: false };
  return {
    ok: false,
    fault: 'SIGNATURE',
    message: `receipt signature does not verify for ${String(receipt.body?.nodeId)}`,
  };
}

/** `verifyReceipt` from a receipt's JSON text alone (what `hexedge_receipt` carries): parse, shape, proof, signature. */
export async function verifyReceiptJson(
  text: string,
  options: { roots?: VerifiedRoots; sha256?: Sha256Hex } = {},
): Promise<ReceiptVerdict & { receipt?: SignedReceipt }> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, fault: 'MALFORMED', message: 'receipt is not JSON' };
  }
  const parsed = safeParseSignedReceipt(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      fault: 'MALFORMED',
      message: `receipt ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'is malformed'}`,
    };
  }
  return { ...(await verifyReceipt(parsed.data, options)), receipt: parsed.data };
}
