/**
 * Every failure the client reports: the gateway's own error (`{ error: { code, message, requestId } }`
 * with its HTTP status), a deadline passed (`DEADLINE_EXCEEDED`, no status), or a transport failure
 * (`NETWORK`, no status). `retryAfterMs` is the gateway's Retry-After, when it sent one.
 */
export class HexEdgeApiError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(options: {
    code: string;
    message: string;
    status?: number;
    requestId?: string;
    retryAfterMs?: number;
    details?: Record<string, unknown>;
    cause?: unknown;
  }) {
    super(options.message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'HexEdgeApiError';
    this.code = options.code;
    this.status = options.status;
    this.requestId = options.requestId;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

export const isHexEdgeApiError = (value: unknown): value is HexEdgeApiError =>
  value instanceof HexEdgeApiError;

/** The gateway's error body, or a stand-in naming the status when the body is not one (a proxy's page). */
export function errorFromAnswer(options: {
  status: number;
  body: unknown;
  requestId: string | null;
  retryAfterMs: number | undefined;
}): HexEdgeApiError {
  const e = (
    options.body as {
      error?: { code?: unknown; message?: unknown; requestId?: unknown; details?: unknown };
    } | null
  )?.error;
  const requestId = typeof e?.requestId === 'string' ? e.requestId : (options.requestId ?? undefined);
  return new HexEdgeApiError({
    code: typeof e?.code === 'string' ? e.code : `HTTP_${options.status}`,
    message: typeof e?.message === 'string' ? e.message : `the gateway answered HTTP ${options.status}`,
    status: options.status,
    ...(requestId ? { requestId } : {}),
    ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}),
    ...(e?.details && typeof e.details === 'object' ? { details: e.details as Record<string, unknown> } : {}),
  });
}
