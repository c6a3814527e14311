import { z } from 'zod';
import { codecFail, codecOk, isPlainObject, type Codec, type CodecResult, type DecodedPayload } from './codec.ts';

/**
 * Declarative layouts for custom firmware: each field names where its bytes are, how to read them
 * and how raw counts become units (`value = raw × scale + add`). `count` reads an array of samples
 * `stride` bytes apart (interleaved axes); `bits` takes a bit range of the integer (flags, nibbles).
 */
const INT_TYPES = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4 } as const;
export type BinaryFieldType = keyof typeof INT_TYPES;

export const binaryFieldSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier such as temperatureC'),
    offset: z.number().int().min(0).max(65_535),
    type: z.enum(Object.keys(INT_TYPES) as [BinaryFieldType, ...BinaryFieldType[]]),
    endian: z.enum(['big', 'little']).default('big'),
    scale: z.number().finite().refine((s) => s !== 0, 'must not be 0').default(1),
    add: z.number().finite().default(0),
    bits: z.object({ start: z.number().int().min(0).max(31), length: z.number().int().min(1).max(32) }).strict().optional(),
    count: z.number().int().min(1).max(4096).optional(),
    stride: z.number().int().min(1).max(65_535).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const width = INT_TYPES[f.type] * 8;
    if (f.bits && (f.type === 'float32' || f.bits.start + f.bits.length > width)) {
      ctx.addIssue({ code: 'custom', path: ['bits'], message: `bits ${f.bits.start}+${f.bits.length} do not fit a ${f.type}` });
    }
  });

export type BinaryField = z.output<typeof binaryFieldSchema>;

const sizeOf = (f: BinaryField) => INT_TYPES[f.type];
const strideOf = (f: BinaryField) => f.stride ?? sizeOf(f);
/** One past the last byte the field touches. */
export const fieldEndBytes = (f: BinaryField) => f.offset + strideOf(f) * ((f.count ?? 1) - 1) + sizeOf(f);

function readRaw(view: DataView, at: number, f: BinaryField): number {
  const little = f.endian === 'little';
  switch (f.type) {
    case 'uint8': return view.getUint8(at);
    case 'int8': return view.getInt8(at);
    case 'uint16': return view.getUint16(at, little);
    case 'int16': return view.getInt16(at, little);
    case 'uint32': return view.getUint32(at, little);
    case 'int32': return view.getInt32(at, little);
    case 'float32': return view.getFloat32(at, little);
  }
}

function writeRaw(view: DataView, at: number, f: BinaryField, raw: number): void {
  const little = f.endian === 'little';
  switch (f.type) {
    case 'uint8': return view.setUint8(at, raw);
    case 'int8': return view.setInt8(at, raw);
    case 'uint16': return view.setUint16(at, raw, little);
    case 'int16': return view.setInt16(at, raw, little);
    case 'uint32': return view.setUint32(at, raw, little);
    case 'int32': return view.setInt32(at, raw, little);
    case 'float32': return view.setFloat32(at, raw, little);
  }
}

function rangeOf(f: BinaryField): [number, number] {
  if (f.bits) return [0, 2 ** f.bits.length - 1];
  const bits = sizeOf(f) * 8;
  return f.type.startsWith('u') ? [0, 2 ** bits - 1] : [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
}

function toUnits(f: BinaryField, raw: number): number {
  // Scales like 0.01 would print 21.450000000000003; 12 significant digits is beyond any sensor.
  return Number((raw * f.scale + f.add).toPrecision(12));
}

export function decodeBinary(bytes: Uint8Array, fields: readonly BinaryField[]): CodecResult<DecodedPayload> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data: DecodedPayload = {};
  let usedBytes = 0;
  for (const f of fields) {
    const end = fieldEndBytes(f);
    if (end > bytes.length) return codecFail(`field '${f.name}' needs bytes ${f.offset}..${end - 1} but the payload has ${bytes.length} bytes`);
    usedBytes = Math.max(usedBytes, end);
    const values: number[] = [];
    for (let i = 0; i < (f.count ?? 1); i++) {
      let raw = readRaw(view, f.offset + i * strideOf(f), f);
      if (f.bits) raw = Math.floor((raw >>> 0) / 2 ** f.bits.start) % 2 ** f.bits.length;
      values.push(toUnits(f, raw));
    }
    data[f.name] = f.count === undefined ? values[0] : values;
  }
  const warnings = usedBytes < bytes.length ? [`${bytes.length - usedBytes} trailing byte(s) not described by the schema`] : [];
  return codecOk(data, warnings);
}

export function encodeBinary(value: unknown, fields: readonly BinaryField[]): CodecResult<Uint8Array> {
  if (!isPlainObject(value)) return codecFail(`binary encode needs an object of field values, got ${JSON.stringify(value)}`);
  const out = new Uint8Array(Math.max(0, ...fields.map(fieldEndBytes)));
  const view = new DataView(out.buffer);
  for (const f of fields) {
    const given = value[f.name];
    const values = f.count === undefined ? [given] : given;
    if (!Array.isArray(values) || values.length !== (f.count ?? 1)) {
      return codecFail(`field '${f.name}' needs ${f.count === undefined ? 'a number' : `an array of ${f.count} numbers`}, got ${JSON.stringify(given)}`);
    }
    const [min, max] = rangeOf(f);
    for (let i = 0; i < values.length; i++) {
      const v: unknown = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) return codecFail(`field '${f.name}' must be a finite number, got ${JSON.stringify(v)}`);
      const scaled = (v - f.add) / f.scale;
      const raw = f.type === 'float32' ? scaled : Math.round(scaled);
      if (f.type !== 'float32' && (raw < min || raw > max)) {
        return codecFail(`field '${f.name}' = ${v} is out of range (raw ${raw} not in [${min}, ${max}])`);
      }
      const at = f.offset + i * strideOf(f);
      if (f.bits) {
        // Read-modify-write: other fields may share this integer's remaining bits.
        const current = readRaw(view, at, { ...f, type: f.type.replace(/^int/, 'uint') as BinaryFieldType }) >>> 0;
        const unit = 2 ** f.bits.start;
        const width = 2 ** f.bits.length;
        const cleared = current - (Math.floor(current / unit) % width) * unit;
        writeRaw(view, at, { ...f, type: f.type.replace(/^int/, 'uint') as BinaryFieldType }, cleared + raw * unit);
      } else {
        writeRaw(view, at, f, raw);
      }
    }
  }
  return codecOk(out);
}

export function binarySchemaCodec(fields: readonly BinaryField[]): Codec {
  return {
    decode: async (bytes) => decodeBinary(bytes, fields),
    encode: async (value) => encodeBinary(value, fields),
  };
}
