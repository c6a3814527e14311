/**
 * One error type for the whole fabric. Each code fixes the HTTP status and the MQTT v5 reason code
 * (MQTT v5 §2.4, "Reason Code"), so every transport reports the same failure the same way.
 */
export const ERROR_CODES = {
  INVALID_JSON: { httpStatus: 400, mqttReason: 0x99 },
  INVALID_REQUEST: { httpStatus: 400, mqttReason: 0x99 },
  INVALID_LOCATION: { httpStatus: 400, mqttReason: 0x99 },
  INVALID_CELL: { httpStatus: 400, mqttReason: 0x99 },
  INVALID_TENSOR: { httpStatus: 400, mqttReason: 0x99 },
  UNAUTHORIZED: { httpStatus: 401, mqttReason: 0x87 },
  BAD_SIGNATURE: { httpStatus: 401, mqttReason: 0x87 },
  FORBIDDEN: { httpStatus: 403, mqttReason: 0x87 },
  NOT_FOUND: { httpStatus: 404, mqttReason: 0x83 },
  MODEL_NOT_FOUND: { httpStatus: 404, mqttReason: 0x83 },
  UNKNOWN_NODE: { httpStatus: 404, mqttReason: 0x83 },
  REPLAYED: { httpStatus: 409, mqttReason: 0x83 },
  STALE_MESSAGE: { httpStatus: 409, mqttReason: 0x83 },
  /** The change clashes with the current state (a second running rollout of one model; ending an ended one). */
  CONFLICT: { httpStatus: 409, mqttReason: 0x83 },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, mqttReason: 0x95 },
  RATE_LIMITED: { httpStatus: 429, mqttReason: 0x97 },
  INTERNAL: { httpStatus: 500, mqttReason: 0x80 },
  NODE_FAILED: { httpStatus: 502, mqttReason: 0x80 },
  RECEIPT_INVALID: { httpStatus: 502, mqttReason: 0x80 },
  NO_NODE_AVAILABLE: { httpStatus: 503, mqttReason: 0x88 },
  MODEL_NOT_READY: { httpStatus: 503, mqttReason: 0x88 },
  OVERLOADED: { httpStatus: 503, mqttReason: 0x89 },
  STORAGE_UNAVAILABLE: { httpStatus: 503, mqttReason: 0x88 },
  DEADLINE_EXCEEDED: { httpStatus: 504, mqttReason: 0x80 },
} as const satisfies Record<string, { httpStatus: number; mqttReason: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export class HexEdgeError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'HexEdgeError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].httpStatus;
  }

  get mqttReason(): number {
    return ERROR_CODES[this.code].mqttReason;
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.details) error.details = this.details;
    return { error };
  }
}

export function isHexEdgeError(value: unknown): value is HexEdgeError {
  return value instanceof HexEdgeError;
}

/**
 * A durable write that failed (disk full, read-only file system): the request is refused with 503 and
 * the reason, and nothing in memory changes, because callers write before they apply.
 */
export function storageUnavailable(what: string, err: unknown): HexEdgeError {
  const reason = err instanceof Error ? err.message : String(err);
  return new HexEdgeError('STORAGE_UNAVAILABLE', `${what} could not be saved (${reason}); nothing was changed`);
}

/** The message for a store that cannot be opened, naming the file and the usual causes. */
export function storageOpenMessage(file: string, err: unknown): string {
  const reason = err instanceof Error ? err.message : String(err);
  return `cannot open ${file}: ${reason} (is its directory writable and the disk not full?)`;
}
