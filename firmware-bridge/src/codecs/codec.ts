/**
 * The codec contract, shaped like TTN's payload formatters: a result carries data plus lists of
 * errors and warnings, so a broken payload is a value to report, never an exception that escapes.
 */
export interface CodecContext {
  fPort: number;
  /** When the network server received the uplink (ms since the Unix epoch). */
  recvTimeMs: number;
}

export interface CodecResult<T> {
  /** Present only when `errors` is empty: a payload is decoded whole or not at all. */
  data?: T;
  errors: string[];
  warnings: string[];
}

export type DecodedPayload = Record<string, unknown>;

export interface Codec {
  decode(bytes: Uint8Array, ctx: CodecContext): Promise<CodecResult<DecodedPayload>>;
  encode(value: unknown, ctx: CodecContext): Promise<CodecResult<Uint8Array>>;
}

export function codecOk<T>(data: T, warnings: string[] = []): CodecResult<T> {
  return { data, errors: [], warnings };
}

export function codecFail<T>(error: string, warnings: string[] = []): CodecResult<T> {
  return { errors: [error], warnings };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
