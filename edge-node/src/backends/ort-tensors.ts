import { HexEdgeError, TYPED_ARRAY_OF, type NumericArray, type Tensor, type TensorDatatype } from '@hexedge/protocol';

/** OIP datatype ↔ onnxruntime tensor type. FP16 and UINT16/UINT64 stay out until a model needs them. */
const OIP_TO_ORT = {
  FP32: 'float32',
  FP64: 'float64',
  INT8: 'int8',
  UINT8: 'uint8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  UINT32: 'uint32',
  BOOL: 'bool',
  BYTES: 'string',
} as const satisfies Partial<Record<TensorDatatype, string>>;

type OrtType = (typeof OIP_TO_ORT)[keyof typeof OIP_TO_ORT];
const ORT_TO_OIP = Object.fromEntries(Object.entries(OIP_TO_ORT).map(([k, v]) => [v, k])) as Record<
  OrtType,
  TensorDatatype
>;

export interface OrtTensorLike {
  type: string;
  dims: readonly number[];
  data: ArrayLike<unknown>;
}

export function toOrtType(datatype: TensorDatatype): OrtType {
  const t = (OIP_TO_ORT as Partial<Record<TensorDatatype, OrtType>>)[datatype];
  if (!t) throw new HexEdgeError('INVALID_TENSOR', `datatype ${datatype} is not supported by this node`);
  return t;
}

const TYPED_FOR: Partial<Record<TensorDatatype, { from(d: ArrayLike<number>): NumericArray; prototype: NumericArray }>> = TYPED_ARRAY_OF;

/** Data for an ORT tensor from an OIP tensor (already checked); a matching typed array is used as is. */
export function toOrtData(t: Tensor): NumericArray | BigInt64Array | Uint8Array | boolean[] | string[] {
  const Typed = TYPED_FOR[t.datatype];
  if (Typed) return Object.getPrototypeOf(t.data) === Typed.prototype ? (t.data as NumericArray) : Typed.from(t.data as ArrayLike<number>);
  switch (t.datatype) {
    case 'INT64':
      return BigInt64Array.from(t.data as ArrayLike<number>, (v) => BigInt(v));
    case 'BOOL':
      return Uint8Array.from(t.data as boolean[], (v) => (v ? 1 : 0));
    case 'BYTES':
      return t.data as string[];
    default:
      throw new HexEdgeError('INVALID_TENSOR', `datatype ${t.datatype} is not supported by this node`);
  }
}

/**
 * Converts an ORT output to an OIP tensor, keeping numeric typed arrays as they are (no copy); 64-bit
 * integers outside ±2^53 are refused rather than silently rounded.
 */
export function fromOrtTensor(name: string, t: OrtTensorLike): Tensor {
  const datatype = ORT_TO_OIP[t.type as OrtType];
  if (!datatype) throw new HexEdgeError('INTERNAL', `output '${name}' has unsupported type ${t.type}`);
  const shape = [...t.dims];
  if (TYPED_FOR[datatype] && ArrayBuffer.isView(t.data)) return { name, datatype, shape, data: t.data as NumericArray };
  if (datatype === 'BOOL') return { name, datatype, shape, data: Array.from(t.data as ArrayLike<number>, (v) => v !== 0) };
  if (datatype === 'BYTES') return { name, datatype, shape, data: Array.from(t.data as ArrayLike<string>) };
  const data = Array.from(t.data as ArrayLike<bigint>, (v, i) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new HexEdgeError('INTERNAL', `output '${name}' element ${i} (${v}) does not fit a JSON number`);
    }
    return Number(v);
  });
  return { name, datatype, shape, data };
}
