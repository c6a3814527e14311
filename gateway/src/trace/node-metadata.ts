import { RECEIPT_PARAMETER } from '@hexedge/protocol';

/**
 * The unsigned `metadata` beside a node's receipt, as the node wrote it (the receipt check keeps only
 * the signed part). Raw: RequestTrace.nodeMetadata decides what of it to keep.
 */
export function rawReceiptMetadata(answerBody: unknown): unknown {
  const raw = (answerBody as { parameters?: Record<string, unknown> } | null)?.parameters?.[
    RECEIPT_PARAMETER
  ];
  if (typeof raw !== 'string') return undefined;
  try {
    return (JSON.parse(raw) as { metadata?: unknown } | null)?.metadata;
  } catch {
    return undefined;
  }
}

/** The wait a node that refused for backpressure asked for (`retry_after_ms` in its error body), bounded to a minute. */
export function retryAfterMsOf(answerBody: unknown): number | undefined {
  const ms = (answerBody as { retry_after_ms?: unknown } | null)?.retry_after_ms;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 60_000) : undefined;
}
