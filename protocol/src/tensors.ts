import { canonicalBytes } from './canonical.ts';
import { sha256Hex } from './encoding.ts';
import { HexEdgeError } from './errors.ts';

/** Open Inference Protocol v2 tensor datatypes and their element size in bytes (BYTES is variable). */
export const TENSOR_DATATYPES = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
} as const;

export type TensorDatatype = keyof typeof TENSOR_DATATYPES;
export const TENSOR_DATATYPE_NAMES = Object.keys(TENSOR_DATATYPES) as [TensorDatatype, ...TensorDatatype[]];

/** Upper bound on elements in one tensor (16 Mi elements = 64 MiB of FP32) — inputs are bounded. */
export const MAX_TENSOR_ELEMENTS = 16 * 1024 * 1024;

export type TensorScalar = number | string | boolean;
export type TensorData = TensorScalar | TensorData[];

export interface Tensor {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  data: TensorScalar[];
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Flattens OIP's row-major (optionally nested) tensor data. */
export function flattenTensorData(data: TensorData): TensorScalar[] {
  if (!Array.isArray(data)) return [data];
  if (data.every((v) => !Array.isArray(v))) return data as TensorScalar[];
  return (data as unknown[]).flat(Infinity) as TensorScalar[];
}

/**
 * Checks that a tensor's data agrees with its datatype and shape, naming the offending tensor and
 * value. Returns the flattened data.
 */
export function checkTensor(t: { name: string; datatype: TensorDatatype; shape: number[]; data: TensorData }): Tensor {
  const count = elementCount(t.shape);
  if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new HexEdgeError('INVALID_TENSOR', `tensor '${t.name}': shape ${JSON.stringify(t.shape)} has a negative or non-integer dimension`);
  }
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new HexEdgeError('PAYLOAD_TOO_LARGE', `tensor '${t.name}': ${count} elements exceeds the limit of ${MAX_TENSOR_ELEMENTS}`);
  }
  const data = flattenTensorData(t.data);
  if (data.length !== count) {
    throw new HexEdgeError(
      'INVALID_TENSOR',
      `tensor '${t.name}': shape ${JSON.stringify(t.shape)} needs ${count} elements but data has ${data.length}`,
    );
  }
  const expected = t.datatype === 'BYTES' ? 'string' : t.datatype === 'BOOL' ? 'boolean' : 'number';
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== expected || (expected === 'number' && !Number.isFinite(v as number))) {
      throw new HexEdgeError(
        'INVALID_TENSOR',
        `tensor '${t.name}': element ${i} is ${JSON.stringify(v)}, expected a finite ${expected} for datatype ${t.datatype}`,
      );
    }
  }
  return { name: t.name, datatype: t.datatype, shape: t.shape, data };
}

/** Normalises a value as the datatype stores it, so both ends of a receipt digest the same bytes. */
function storedValue(datatype: TensorDatatype, v: TensorScalar): TensorScalar {
  if (datatype === 'FP32') return Math.fround(v as number);
  if (datatype === 'FP16' || datatype === 'FP64') return v as number;
  return v;
}

/**
 * SHA-256 over the canonical JSON of the tensors, sorted by name, each value normalised to its
 * datatype's precision. Receipts carry this digest of the inputs and of the outputs.
 */
export async function tensorsDigest(tensors: readonly Tensor[]): Promise<string> {
  const sorted = [...tensors]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      data: t.data.map((v) => storedValue(t.datatype, v)),
    }));
  return sha256Hex(canonicalBytes(sorted));
}
