import { isFastSignedReceipt } from './fast-check.ts';
import { signedReceiptSchema, type SignedReceipt } from './receipt.ts';

/**
 * `signedReceiptSchema.safeParse` with the hand-checked fast path of fast-check.ts in front: a receipt
 * it takes is returned as it is (zod would return an equal copy); any other goes through zod, which
 * accepts, strips or names its first issue exactly as before.
 */
export function safeParseSignedReceipt(
  raw: unknown,
): { success: true; data: SignedReceipt } | ReturnType<typeof signedReceiptSchema.safeParse> {
  if (isFastSignedReceipt(raw)) return { success: true, data: raw as SignedReceipt };
  return signedReceiptSchema.safeParse(raw);
}
