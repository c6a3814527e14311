/** The wait a node that refused for backpressure asked for (`retry_after_ms` in its error body), bounded to a minute. */
export function retryAfterMsOf(answerBody: unknown): number | undefined {
  const ms = (answerBody as { retry_after_ms?: unknown } | null)?.retry_after_ms;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 60_000) : undefined;
}
