import { codecFail, codecOk, isPlainObject, type Codec, type CodecResult, type DecodedPayload } from './codec.ts';
import { LPP_BY_NAME, LPP_BY_TYPE, lppSizeBytes, type LppPart } from './lpp-types.ts';

/** Decimal places of a resolution, so 272 × 0.1 reads 27.2 and not 27.200000000000003. */
function decimalsOf(resolution: number): number {
  return Math.max(0, Math.ceil(-Math.log10(resolution) - 1e-9));
}

function readInt(bytes: Uint8Array, offset: number, part: LppPart): number {
  let raw = 0;
  for (let i = 0; i < part.sizeBytes; i++) raw = raw * 256 + bytes[offset + i]!;
  const range = 2 ** (8 * part.sizeBytes);
  if (part.signed && raw >= range / 2) raw -= range;
  return Number((raw * part.resolution).toFixed(decimalsOf(part.resolution)));
}

/** Cayenne LPP: `channel, type, value…` repeated; big-endian values. */
export function decodeLpp(bytes: Uint8Array): CodecResult<DecodedPayload> {
  const data: DecodedPayload = {};
  const warnings: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) return codecFail(`LPP truncated: channel byte at offset ${offset} has no type byte`);
    const channel = bytes[offset]!;
    const typeId = bytes[offset + 1]!;
    const type = LPP_BY_TYPE.get(typeId);
    if (!type) return codecFail(`LPP unknown type 0x${typeId.toString(16).padStart(2, '0')} (${typeId}) on channel ${channel} at offset ${offset}`);
    const sizeBytes = lppSizeBytes(type);
    if (offset + 2 + sizeBytes > bytes.length) {
      return codecFail(`LPP truncated: ${type.name} on channel ${channel} at offset ${offset} needs ${sizeBytes} value bytes, ${bytes.length - offset - 2} left`);
    }
    let at = offset + 2;
    const values: Record<string, number> = {};
    for (const part of type.parts) {
      values[part.key ?? ''] = readInt(bytes, at, part);
      at += part.sizeBytes;
    }
    const key = `${type.name}_${channel}`;
    if (key in data) warnings.push(`LPP ${key} appears twice; the last value is kept`);
    data[key] = type.parts.length === 1 && type.parts[0]!.key === undefined ? values[''] : values;
    offset = at;
  }
  return codecOk(data, warnings);
}

function writeInt(out: number[], value: unknown, part: LppPart, what: string): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${what} must be a finite number, got ${JSON.stringify(value)}`;
  const raw = Math.round(value / part.resolution);
  const range = 2 ** (8 * part.sizeBytes);
  const [min, max] = part.signed ? [-range / 2, range / 2 - 1] : [0, range - 1];
  if (raw < min || raw > max) {
    return `${what} = ${value} is out of range [${min * part.resolution}, ${max * part.resolution}] for ${part.sizeBytes} byte(s)`;
  }
  let u = raw < 0 ? raw + range : raw;
  const bytes: number[] = [];
  for (let i = 0; i < part.sizeBytes; i++) {
    bytes.unshift(u % 256);
    u = Math.floor(u / 256);
  }
  out.push(...bytes);
  return undefined;
}

/** Encodes `{ temperature_3: 27.2, gps_1: { latitude, longitude, altitude } }` in key order. */
export function encodeLpp(value: unknown): CodecResult<Uint8Array> {
  if (!isPlainObject(value)) return codecFail(`LPP encode needs an object of {type}_{channel} fields, got ${JSON.stringify(value)}`);
  const out: number[] = [];
  for (const [key, v] of Object.entries(value)) {
    const match = /^([a-z_]+)_(\d{1,3})$/.exec(key);
    const type = match ? LPP_BY_NAME.get(match[1]!) : undefined;
    if (!match || !type) return codecFail(`LPP encode: '${key}' is not {type}_{channel} with a known LPP type`);
    const channel = Number(match[2]);
    if (channel > 255) return codecFail(`LPP encode: channel ${channel} of '${key}' is above 255`);
    out.push(channel, type.type);
    const single = type.parts.length === 1 && type.parts[0]!.key === undefined;
    if (!single && !isPlainObject(v)) return codecFail(`LPP encode: '${key}' needs {${type.parts.map((p) => p.key).join(', ')}}`);
    for (const part of type.parts) {
      const partValue = single ? v : (v as Record<string, unknown>)[part.key!];
      const error = writeInt(out, partValue, part, single ? key : `${key}.${part.key}`);
      if (error) return codecFail(`LPP encode: ${error}`);
    }
  }
  return codecOk(Uint8Array.from(out));
}

export const lppCodec: Codec = {
  decode: async (bytes) => decodeLpp(bytes),
  encode: async (value) => encodeLpp(value),
};
