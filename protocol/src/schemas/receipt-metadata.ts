import { z } from 'zod';
import { MAX_TRACEPARENT_CHARS } from '../trace-context.ts';
import { PRIORITIES } from './priority.ts';
import { batchReceiptSchema, singleReceiptSchema } from './receipt.ts';

/**
 * What travels beside a signed receipt without being signed: the trace the answer belongs to and the
 * node's timings for it. Outside `body`, so it is in neither the signature nor the digests, and a
 * receipt's identity (the oracle's receipt hash of body and signature) never depends on it. Nobody
 * may rely on it for anything but observing: whoever relays a receipt can change it.
 */
export const receiptMetadataSchema = z.object({
  /** The W3C trace context of the hop that produced the receipt (the node's span). */
  traceparent: z.string().max(MAX_TRACEPARENT_CHARS).optional(),
  /** Time the request waited in the node's queue, and the model's run, ms. */
  queueMs: z.number().nonnegative().max(3_600_000).optional(),
  runMs: z.number().nonnegative().max(3_600_000).optional(),
  /** The scheduler priority the node ran it at. */
  priority: z.enum(PRIORITIES).optional(),
});
export type ReceiptMetadata = z.infer<typeof receiptMetadataSchema>;

const withMetadata = { metadata: receiptMetadataSchema.optional() };
/** A receipt as answers carry it: the signed receipt (v1 or v2) plus its unsigned metadata. */
export const receiptWithMetadataSchema = z.discriminatedUnion('v', [
  batchReceiptSchema.extend(withMetadata),
  singleReceiptSchema.extend(withMetadata),
]);
export type ReceiptWithMetadata = z.infer<typeof receiptWithMetadataSchema>;
