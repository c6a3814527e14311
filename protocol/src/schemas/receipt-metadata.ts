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

const METADATA_KEYS = new Set(['traceparent', 'queueMs', 'runMs', 'priority']);
const PRIORITY_SET = new Set<string>(PRIORITIES);
const isMs = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 3_600_000;

/**
 * `receiptMetadataSchema.safeParse` for every answer the gateway reads, by hand where the value is
 * exactly what the schema describes (a plain object of known keys, each valid): the same output, a
 * copy. Anything else (extra keys, which zod strips, or any invalid value) goes through zod, so the
 * result is always zod's.
 */
export function safeParseReceiptMetadata(
  raw: unknown,
): { success: true; data: ReceiptMetadata } | { success: false } {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    let taken = true;
    for (const key of Object.keys(r)) if (!METADATA_KEYS.has(key)) taken = false;
    const { traceparent, queueMs, runMs, priority } = r;
    if (
      taken &&
      (traceparent === undefined ||
        (typeof traceparent === 'string' && traceparent.length <= MAX_TRACEPARENT_CHARS)) &&
      (queueMs === undefined || isMs(queueMs)) &&
      (runMs === undefined || isMs(runMs)) &&
      (priority === undefined || (typeof priority === 'string' && PRIORITY_SET.has(priority)))
    ) {
      const data: Record<string, unknown> = {};
      if (Object.hasOwn(r, 'traceparent')) data.traceparent = traceparent;
      if (Object.hasOwn(r, 'queueMs')) data.queueMs = queueMs;
      if (Object.hasOwn(r, 'runMs')) data.runMs = runMs;
      if (Object.hasOwn(r, 'priority')) data.priority = priority;
      return { success: true, data: data as ReceiptMetadata };
    }
  }
  const parsed = receiptMetadataSchema.safeParse(raw);
  return parsed.success ? { success: true, data: parsed.data } : { success: false };
}
