/**
 * The codec contract, shaped like TTN's payload formatters: a result carries data plus lists of
 * errors and warnings, so a broken payload is a value to report, never an exception that escapes.
 */
export interface CodecContext {
  fPort: number;
  /** When the network server received the uplink (ms since the Unix epoch). */
  recvTimeMs: number;
}

/** A line a JS codec printed with `console.log/info/warn/error` (bounded per call). */
export interface CodecLogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface CodecResult<T> {
  /** Present only when `errors` is empty: a payload is decoded whole or not at all. */
  data?: T;
  errors: string[];
  warnings: string[];
  /** What the codec printed during the call; absent when nothing. */
  logs?: CodecLogLine[];
}

export type DecodedPayload = Record<string, unknown>;

/** TTN's normalized payload: one or more measurements (`{ time?, air: { temperature, … }, … }`). */
export type NormalizedMeasurement = Record<string, unknown>;

export interface DecodeResult extends CodecResult<DecodedPayload> {
  /** The codec's normalizeUplink output, always as a list of measurements; absent without one. */
  normalized?: NormalizedMeasurement[];
}

export interface EncodeResult extends CodecResult<Uint8Array> {
  /** The port the encoder chose (TTN's encodeDownlink returns one); absent: the profile's port. */
  fPort?: number;
  /** The bytes decoded back by the codec's decodeDownlink, as TTN shows a downlink. */
  decoded?: DecodedPayload;
}

export interface Codec {
  decode(bytes: Uint8Array, ctx: CodecContext): Promise<DecodeResult>;
  encode(value: unknown, ctx: CodecContext): Promise<EncodeResult>;
  /** Starts what the codec needs before its first call (a JS codec's worker, evaluating its source). */
  warm?(): Promise<void>;
  /** Frees what the codec holds (a JS codec's worker); calls already made finish first. */
  close?(): Promise<void>;
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

/** LoRaWAN application ports are 1–223; 224 is the MAC test port and 225–255 are reserved (LoRaWAN 1.0.4 §4.3.2). */
export const MIN_APP_FPORT = 1;
export const MAX_APP_FPORT = 223;
export function isValidFPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= MIN_APP_FPORT && (value as number) <= MAX_APP_FPORT;
}
