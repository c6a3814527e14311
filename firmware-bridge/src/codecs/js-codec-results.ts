import {
  codecFail,
  isPlainObject,
  isValidFPort,
  type CodecResult,
  type DecodedPayload,
  type DecodeResult,
  type EncodeResult,
  type NormalizedMeasurement,
} from './codec.ts';

/**
 * What a JS codec returned, checked the way TTN checks it: `errors` fail the message with the codec's
 * own words, `warnings` travel with the result, and anything not shaped like the contract is an error
 * that quotes (the start of) what came back. `parsed` is the sandbox driver's `{ style, result, … }`.
 */

/** One uplink's normalized payload holds a handful of measurements (TTN: one per reading in the frame). */
export const MAX_NORMALIZED_MEASUREMENTS = 64;
const MAX_QUOTED_CHARS = 200;

function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
}

/** TTN's `errors`/`warnings` are string arrays; a lone string is taken as one entry, not ignored. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return value ? [value] : [];
  return Array.isArray(value) ? value.map((x) => (typeof x === 'string' ? x : show(x))) : [];
}

function isByteArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);
}

export function uplinkResult(parsed: Record<string, unknown>): DecodeResult {
  const { style, result } = parsed;
  if (style === 'missing') return codecFail('JS codec defines no decodeUplink, Decoder or Decode function');
  if (style === 'legacy')
    return isPlainObject(result)
      ? { data: result, errors: [], warnings: [] }
      : codecFail(`JS codec Decoder returned ${show(result)}, not an object`);
  if (!isPlainObject(result))
    return codecFail(`JS codec decodeUplink returned ${show(result)}, not { data, errors, warnings }`);
  const errors = strings(result.errors);
  const warnings = strings(result.warnings);
  if (errors.length > 0) return { errors: errors.map((e) => `JS codec: ${e}`), warnings };
  if (!isPlainObject(result.data))
    return codecFail(`JS codec decodeUplink returned data ${show(result.data)}, not an object`, warnings);
  if (!('normalized' in parsed)) return { data: result.data, errors: [], warnings };
  const normalized = normalizedResult(parsed.normalized);
  if ('errors' in normalized)
    return { errors: normalized.errors, warnings: [...warnings, ...normalized.warnings] };
  return {
    data: result.data,
    errors: [],
    warnings: [...warnings, ...normalized.warnings],
    normalized: normalized.measurements,
  };
}

/**
 * normalizeUplink's `{ data: measurement | measurement[] }`. Checked for shape only (a list of
 * objects, `time` a date-time): TTN's schema keeps growing, and the profile's input mapping says
 * which fields it needs and names any that are missing.
 */
function normalizedResult(
  value: unknown,
): { measurements: NormalizedMeasurement[]; warnings: string[] } | { errors: string[]; warnings: string[] } {
  if (!isPlainObject(value))
    return {
      errors: [`JS codec normalizeUplink returned ${show(value)}, not { data, errors, warnings }`],
      warnings: [],
    };
  const warnings = strings(value.warnings);
  const errors = strings(value.errors);
  if (errors.length > 0) return { errors: errors.map((e) => `JS codec normalizeUplink: ${e}`), warnings };
  const list = Array.isArray(value.data) ? value.data : [value.data];
  const fail = (why: string) => ({ errors: [`JS codec normalizeUplink: ${why}`], warnings });
  if (list.length === 0) return fail('returned no measurement');
  if (list.length > MAX_NORMALIZED_MEASUREMENTS)
    return fail(`returned ${list.length} measurements, over ${MAX_NORMALIZED_MEASUREMENTS}`);
  for (const [i, m] of list.entries()) {
    if (!isPlainObject(m)) return fail(`measurement ${i} is ${show(m)}, not an object`);
    if ('time' in m && (typeof m.time !== 'string' || Number.isNaN(Date.parse(m.time))))
      return fail(`measurement ${i} has time ${show(m.time)}, not an RFC 3339 date-time`);
  }
  return { measurements: list as NormalizedMeasurement[], warnings };
}

export function encodeResult(parsed: Record<string, unknown>): EncodeResult {
  const { style, result } = parsed;
  if (style === 'missing') return codecFail('JS codec defines no encodeDownlink, Encoder or Encode function');
  if (style === 'legacy') {
    return isByteArray(result)
      ? { data: Uint8Array.from(result), errors: [], warnings: [] }
      : codecFail(`JS codec encoder returned bytes ${show(result)}, not an array of integers 0–255`);
  }
  if (!isPlainObject(result))
    return codecFail(
      `JS codec encodeDownlink returned ${show(result)}, not { bytes, fPort, errors, warnings }`,
    );
  const errors = strings(result.errors);
  const warnings = strings(result.warnings);
  if (errors.length > 0) return { errors: errors.map((e) => `JS codec: ${e}`), warnings };
  if (!isByteArray(result.bytes))
    return codecFail(
      `JS codec encoder returned bytes ${show(result.bytes)}, not an array of integers 0–255`,
      warnings,
    );
  const hasPort = result.fPort !== undefined && result.fPort !== null;
  if (hasPort && !isValidFPort(result.fPort)) {
    return codecFail(
      `JS codec encodeDownlink returned fPort ${show(result.fPort)}: LoRaWAN application ports are integers 1–223`,
      warnings,
    );
  }
  const back =
    'decoded' in parsed ? downlinkDecodeResult({ style: 'ttn', result: parsed.decoded }) : undefined;
  if (back && !back.data)
    warnings.push(...back.errors.map((e) => `decodeDownlink: ${e.replace(/^JS codec: /, '')}`));
  return {
    data: Uint8Array.from(result.bytes),
    errors: [],
    warnings,
    ...(hasPort ? { fPort: result.fPort as number } : {}),
    ...(back?.data ? { decoded: back.data } : {}),
  };
}

export function downlinkDecodeResult(parsed: Record<string, unknown>): CodecResult<DecodedPayload> {
  const { style, result } = parsed;
  if (style === 'missing') return codecFail('JS codec defines no decodeDownlink function');
  if (!isPlainObject(result))
    return codecFail(`JS codec decodeDownlink returned ${show(result)}, not { data, errors, warnings }`);
  const errors = strings(result.errors);
  const warnings = strings(result.warnings);
  if (errors.length > 0) return { errors: errors.map((e) => `JS codec: ${e}`), warnings };
  if (!isPlainObject(result.data))
    return codecFail(`JS codec decodeDownlink returned data ${show(result.data)}, not an object`, warnings);
  return { data: result.data, errors: [], warnings };
}
