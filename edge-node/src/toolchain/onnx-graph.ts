/**
 * Writes ONNX ModelProto files from a plain description of a graph. The project builds its own models
 * (and the walking skeleton's tiny one) with this, through `onnx-proto`'s generated protobuf classes,
 * so every file is a real ONNX model that both onnxruntime-node and onnxruntime-web load.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types we write, named as the Open Inference Protocol names them. */
export const ONNX_ELEMENT_TYPES = {
  FP32: onnx.TensorProto.DataType.FLOAT,
  UINT8: onnx.TensorProto.DataType.UINT8,
  INT8: onnx.TensorProto.DataType.INT8,
  INT32: onnx.TensorProto.DataType.INT32,
  INT64: onnx.TensorProto.DataType.INT64,
  BOOL: onnx.TensorProto.DataType.BOOL,
} as const;
export type OnnxElementType = keyof typeof ONNX_ELEMENT_TYPES;

export interface ValueSpec {
  name: string;
  datatype: OnnxElementType;
  /** Dimensions; a string is a symbolic (dynamic) dimension such as 'batch'. */
  shape: (number | string)[];
}

/** Attribute values say their ONNX type explicitly: JS numbers cannot tell 1 from 1.0. */
export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface InitializerSpec {
  name: string;
  datatype: OnnxElementType;
  dims: number[];
  data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;
}

export interface GraphSpec {
  name: string;
  /** Default-domain opset; 13–17 loads in both onnxruntime-node and onnxruntime-web. */
  opset: number;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers: InitializerSpec[];
  docString?: string;
  /** Free-form key/value metadata stored in the model (model card fields, provenance). */
  metadata?: Record<string, string>;
}

/** IR version 8 pairs with opsets up to 17 (ONNX versioning table). */
const IR_VERSION = 8;
const encoder = new TextEncoder();

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_ELEMENT_TYPES[v.datatype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: T.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.STRING, s: encoder.encode(value.string) };
}

function initializer(t: InitializerSpec): onnxProto.onnx.ITensorProto {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) {
    throw new RangeError(`initializer '${t.name}': dims ${JSON.stringify(t.dims)} need ${expected} values, got ${t.data.length}`);
  }
  // rawData is little-endian element bytes, the compact form every runtime reads.
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
  return { name: t.name, dims: t.dims, dataType: ONNX_ELEMENT_TYPES[t.datatype], rawData: raw };
}

/** Serialises a graph description to the bytes of an `.onnx` file. */
export function encodeOnnxModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'hexedge',
    producerVersion: '0.1.0',
    docString: spec.docString ?? '',
    opsetImport: [{ domain: '', version: spec.opset }],
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.name,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: spec.initializers.map(initializer),
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.opType}_${i}`,
        opType: n.opType,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Parses an `.onnx` file's bytes (for `hexedge model inspect` and tests). */
export function decodeOnnxModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
