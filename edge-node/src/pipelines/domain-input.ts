import { HexEdgeError } from '@hexedge/protocol';

/**
 * Checks shared by the domain-input pipelines. Domain input arrives as parsed JSON from the network, so
 * every field is checked before anything is decoded; messages name the field and the offending value.
 */

/** Requires a plain object with exactly the known fields (a typo such as `sampleRate` is an error, not ignored). */
export function requireFields(options: {
  input: unknown;
  pipelineId: string;
  fields: readonly string[];
}): Record<string, unknown> {
  const { input, pipelineId, fields } = options;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `pipeline ${pipelineId} takes an object with ${fields.join(', ')}, got ${describe(input)}`,
    );
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!fields.includes(key)) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `pipeline ${pipelineId} has no field '${key}' (fields: ${fields.join(', ')})`,
      );
    }
  }
  return record;
}

/** Standard base64 (RFC 4648 §4); padding optional, no whitespace or URL-safe letters. */
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/** Returns the field as a base64 string, or throws naming the field. Decoding is left to the caller, after its size checks. */
export function requireBase64(field: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new HexEdgeError('INVALID_REQUEST', `${field} must be a base64 string, got ${describe(value)}`);
  const padded = value.endsWith('=');
  if (!BASE64_PATTERN.test(value) || (padded ? value.length % 4 !== 0 : value.length % 4 === 1)) {
    const bad = value.search(/[^A-Za-z0-9+/=]/);
    const where =
      bad >= 0 ? `: character ${JSON.stringify(value[bad])} at offset ${bad}` : ` (length ${value.length})`;
    throw new HexEdgeError('INVALID_REQUEST', `${field} is not valid base64${where}`);
  }
  return value;
}

/** Decoded size of a string that passed `requireBase64`, without decoding it. */
export function base64ByteLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor(((text.length - padding) * 3) / 4);
}

/** Standard base64 (already checked by `requireBase64`) to bytes, with web standards only. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A short, safe rendering of an unexpected value for an error message (long strings are cut). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
