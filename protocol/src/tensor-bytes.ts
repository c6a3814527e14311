import { HexEdgeError } from './errors.ts';
import { elementCount, type Tensor, type TensorDatatype, type TensorValues } from './tensors.ts';

/**
 * Tensor data as raw little-endian bytes, the layout of the Open Inference Protocol's binary tensor
 * data extension (as Triton implements it): fixed-size elements back to back, BOOL as one byte,
 * BYTES as a 4-byte little-endian length then the UTF-8 bytes, per element. Receipts digest these
 * same bytes, so a JSON request and a binary one with equal values get equal digests.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('HexEdge needs a little-endian platform');

/** The typed array that holds each fixed-width numeric datatype (INT64/UINT64/FP16/BOOL/BYTES have none). */
export const TYPED_ARRAY_OF = {
  FP32: Float32Array,
  FP64: Float64Array,
  INT8: Int8Array,
  UINT8: Uint8Array,
  INT16: Int16Array,
  UINT16: Uint16Array,
  INT32: Int32Array,
  UINT32: Uint32Array,
} as const;
const TYPED = TYPED_ARRAY_OF;
type TypedKey = keyof typeof TYPED;
const isTypedKey = (d: TensorDatatype): d is TypedKey => d in TYPED;

/** IEEE 754 binary16 ↔ number, for FP16 tensors (round to nearest even on the way in). */
export function float16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function numberToFloat16(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    const half = (mant >> shift) + (((mant >> (shift - 1)) & 1) & ((mant & ((1 << (shift - 1)) - 1)) !== 0 || ((mant >> shift) & 1) ? 1 : 0));
    return sign | half;
  }
  const rounded = (exp << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  return sign | (rest > 0x1000 || (rest === 0x1000 && rounded & 1) ? rounded + 1 : rounded);
}

/** The tensor's data as its datatype's raw little-endian bytes. */
export function tensorToBytes(t: Tensor): Uint8Array {
  const { datatype, data } = t;
  if (isTypedKey(datatype)) {
    const Ctor = TYPED[datatype];
    const typed = data instanceof Ctor ? data : Ctor.from(data as ArrayLike<number>);
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  switch (datatype) {
    case 'INT64':
      return new Uint8Array(BigInt64Array.from(data as ArrayLike<number>, (v) => BigInt(v)).buffer);
    case 'UINT64':
      return new Uint8Array(BigUint64Array.from(data as ArrayLike<number>, (v) => BigInt(v)).buffer);
    case 'BOOL':
      return Uint8Array.from(data as ArrayLike<boolean>, (v) => (v ? 1 : 0));
    case 'FP16':
      return new Uint8Array(Uint16Array.from(data as ArrayLike<number>, numberToFloat16).buffer);
    case 'BYTES': {
      const parts = (data as string[]).map((s) => encoder.encode(s));
      const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
      const view = new DataView(out.buffer);
      let at = 0;
      for (const p of parts) {
        view.setUint32(at, p.length, true);
        out.set(p, at + 4);
        at += 4 + p.length;
      }
      return out;
    }
  }
  throw new HexEdgeError('INVALID_TENSOR', `datatype ${datatype} has no binary form`);
}

/**
 * Reads a tensor's data from raw bytes, refusing a byte length that does not fit its shape. The bytes
 * are copied, so the result never aliases (or misaligns on) the request body.
 */
/**
 * A copy of exactly these bytes as an ArrayBuffer of their own. `bytes.slice().buffer` would be wrong
 * for a Node Buffer: Buffer#slice does not copy, so its `.buffer` is the whole (shared) allocation pool,
 * other requests' bytes included.
 */
const ownBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

export function tensorFromBytes(meta: { name: string; datatype: TensorDatatype; shape: number[] }, bytes: Uint8Array): Tensor {
  const { name, datatype, shape } = meta;
  const count = elementCount(shape);
  const wrongSize = (expected: number) =>
    new HexEdgeError('INVALID_TENSOR', `tensor '${name}': shape ${JSON.stringify(shape)} of ${datatype} needs ${expected} bytes but binary data has ${bytes.length}`);
  let data: TensorValues;
  if (isTypedKey(datatype)) {
    const Ctor = TYPED[datatype];
    if (bytes.length !== count * Ctor.BYTES_PER_ELEMENT) throw wrongSize(count * Ctor.BYTES_PER_ELEMENT);
    data = new Ctor(ownBuffer(bytes));
  } else if (datatype === 'INT64' || datatype === 'UINT64') {
    if (bytes.length !== count * 8) throw wrongSize(count * 8);
    const wide = datatype === 'INT64' ? new BigInt64Array(ownBuffer(bytes)) : new BigUint64Array(ownBuffer(bytes));
    data = Array.from(wide, (v, i) => {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new HexEdgeError('INVALID_TENSOR', `tensor '${name}': element ${i} (${v}) is beyond ±2^53`);
      }
      return Number(v);
    });
  } else if (datatype === 'BOOL') {
    if (bytes.length !== count) throw wrongSize(count);
    data = Array.from(bytes, (b) => b !== 0);
  } else if (datatype === 'FP16') {
    if (bytes.length !== count * 2) throw wrongSize(count * 2);
    data = Array.from(new Uint16Array(ownBuffer(bytes)), float16ToNumber);
  } else {
    const strings: string[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    while (at < bytes.length) {
      if (at + 4 > bytes.length) throw new HexEdgeError('INVALID_TENSOR', `tensor '${name}': truncated BYTES length prefix at byte ${at}`);
      const len = view.getUint32(at, true);
      if (at + 4 + len > bytes.length) throw new HexEdgeError('INVALID_TENSOR', `tensor '${name}': BYTES element ${strings.length} runs past the data`);
      try {
        strings.push(decoder.decode(bytes.subarray(at + 4, at + 4 + len)));
      } catch {
        throw new HexEdgeError('INVALID_TENSOR', `tensor '${name}': BYTES element ${strings.length} is not UTF-8`);
      }
      at += 4 + len;
    }
    if (strings.length !== count) throw new HexEdgeError('INVALID_TENSOR', `tensor '${name}': shape ${JSON.stringify(shape)} needs ${count} BYTES elements, got ${strings.length}`);
    data = strings;
  }
  return { name, datatype, shape, data };
}

/**
 * The tensor with its numeric data in the datatype's typed array (a no-op when it already is). Done
 * once per request, the one array then feeds the runtime, the receipt digest and batching.
 */
export function asTypedTensor(t: Tensor): Tensor {
  if (!isTypedKey(t.datatype)) return t;
  const Ctor = TYPED[t.datatype];
  return t.data instanceof Ctor ? t : { ...t, data: Ctor.from(t.data as ArrayLike<number>) };
}
