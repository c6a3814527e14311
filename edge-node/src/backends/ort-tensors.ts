import { HexEdgeError, type Tensor, type TensorDatatype } from '@hexedge/protocol';

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

/** Typed-array data for an ORT tensor of an OIP tensor (already checked for datatype and length). */
export function toOrtData(t: Tensor): Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | boolean[] | string[] {
  const d = t.data;
  switch (t.datatype) {
    case 'FP32':
      return Float32Array.from(d as number[]);
    case 'FP64':
      return Float64Array.from(d as number[]);
    case 'INT8':
      return Int8Array.from(d as number[]);
    case 'UINT8':
      return Uint8Array.from(d as number[]);
    case 'INT16':
      return Int16Array.from(d as number[]);
    case 'INT32':
      return Int32Array.from(d as number[]);
    case 'UINT32':
      return Uint32Array.from(d as number[]);
    case 'INT64':
      return BigInt64Array.from(d as number[], (v) => BigInt(Math.trunc(v)));
    case 'BOOL':
      return d as boolean[];
    case 'BYTES':
      return d as string[];
    default:
      throw new HexEdgeError('INVALID_TENSOR', `datatype ${t.datatype} is not supported by this node`);
  }
}

/** Converts an ORT output to an OIP tensor; 64-bit integers outside ±2^53 are refused rather than rounded. */
export function fromOrtTensor(name: string, t: OrtTensorLike): Tensor {
  const datatype = ORT_TO_OIP[t.type as OrtType];
  if (!datatype) throw new HexEdgeError('INTERNAL', `output '${name}' has unsupported type ${t.type}`);
  const data: (number | string | boolean)[] = new Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new HexEdgeError('INTERNAL', `output '${name}' element ${i} (${v}) does not fit a JSON number`);
      }
      data[i] = Number(v);
    } else {
      data[i] = v as number | string | boolean;
    }
  }
  return { name, datatype, shape: [...t.dims], data };
}
