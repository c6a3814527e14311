import {
  asTypedTensor,
  HexEdgeError,
  MAX_TENSOR_ELEMENTS,
  TENSOR_DATATYPES,
  tensorFromBytes,
  tensorToBytes,
  type InferRequest,
  type Tensor,
  type TensorDatatype,
} from '@hexedge/protocol';

/**
 * Inside the fabric tensors travel as the Open Inference Protocol's binary tensor data extension (as
 * Triton implements it, and the edge node serves it: edge-node/src/server/binary-extension.ts): a JSON
 * header of `Inference-Header-Content-Length` bytes naming each tensor with its `binary_data_size`,
 * then the tensors' raw little-endian bytes. The gateway asks for binary answers too
 * (`binary_data_output`), so no float goes through JSON between the gateway and a node: no number
 * printing or parsing on either side, and the bytes are the very bytes the receipt digests.
 */
export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The largest finite FP32 and FP16 values; JSON doubles past them would become ±Infinity on the wire. */
const FP32_MAX = 3.4028234663852886e38;
const FP16_MAX = 65504;
/** Halfway between FP16_MAX and 2^16: from here on a double rounds to FP16 Infinity (round to nearest even). */
const FP16_ROUNDS_TO_INFINITY = 65520;

/**
 * The tensor with its numeric data in its datatype's typed array (done once: the one array then feeds
 * the forwarded body and the receipt digest), refusing an FP32/FP16 value that the datatype cannot hold:
 * JSON doubles past FP32's range would reach the model as ±Infinity, which the node refuses.
 */
export function toWireTensor(t: Tensor): Tensor {
  if (t.datatype === 'FP16') {
    const data = t.data as ArrayLike<number>;
    for (let i = 0; i < data.length; i++) {
      if (Math.abs(data[i]!) >= FP16_ROUNDS_TO_INFINITY) throw outOfRange(t, i, data[i]!, `±${FP16_MAX}`);
    }
    return t;
  }
  const typed = asTypedTensor(t);
  if (typed !== t && t.datatype === 'FP32') {
    const data = typed.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!))
        throw outOfRange(t, i, (t.data as ArrayLike<number>)[i]!, `±${FP32_MAX}`);
    }
  }
  return typed;
}

const outOfRange = (t: Tensor, i: number, v: number, range: string) =>
  new HexEdgeError(
    'INVALID_TENSOR',
    `tensor '${t.name}': element ${i} is ${v}, outside ${t.datatype}'s range (${range})`,
  );

/** The body (and its extension header) that forwards `inputs` to a node, asking for binary outputs. */
export function encodeInferBody(request: {
  id: string;
  inputs: readonly Tensor[];
  outputs?: InferRequest['outputs'];
}): { body: Uint8Array; headerLength: number } {
  const blobs = request.inputs.map((t) => tensorToBytes(t));
  const header = encoder.encode(
    JSON.stringify({
      id: request.id,
      inputs: request.inputs.map((t, i) => ({
        name: t.name,
        datatype: t.datatype,
        shape: t.shape,
        parameters: { binary_data_size: blobs[i]!.length },
      })),
      ...(request.outputs ? { outputs: request.outputs } : {}),
      parameters: { binary_data_output: true },
    }),
  );
  const body = new Uint8Array(header.length + blobs.reduce((n, b) => n + b.length, 0));
  body.set(header, 0);
  let at = header.length;
  for (const b of blobs) {
    body.set(b, at);
    at += b.length;
  }
  return { body, headerLength: header.length };
}

const isShape = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length <= 16 && v.every((d) => Number.isInteger(d) && (d as number) >= 0);

/**
 * A node's answer as the gateway reads it: JSON, or a binary-extension body (when the node sent
 * `Inference-Header-Content-Length`) whose binary outputs get their data from the bytes after the
 * header, as typed arrays. Anything that does not decode cleanly (a header length or a
 * `binary_data_size` out of bounds, bytes no output claims, a shape the bytes do not fit) is null: the
 * answer is malformed, which is the node's fault.
 */
export function decodeNodeAnswer(answer: Uint8Array, headerLength: string | undefined): unknown {
  if (headerLength === undefined) return parseJson(decoder.decode(answer));
  // A plain Uint8Array view: a Node Buffer's slice() shares memory, and tensorFromBytes copies with slice().
  const bytes = new Uint8Array(answer.buffer, answer.byteOffset, answer.byteLength);
  if (!/^\d{1,10}$/.test(headerLength) || Number(headerLength) > bytes.length) return null;
  const jsonBytes = Number(headerLength);
  const head = parseJson(decoder.decode(bytes.subarray(0, jsonBytes))) as { outputs?: unknown } | null;
  if (head === null || typeof head !== 'object' || !Array.isArray(head.outputs)) return null;
  let at = jsonBytes;
  for (const output of head.outputs as {
    name?: unknown;
    datatype?: unknown;
    shape?: unknown;
    data?: unknown;
    parameters?: { binary_data_size?: unknown };
  }[]) {
    const size = output?.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (!Number.isInteger(size) || (size as number) < 0 || at + (size as number) > bytes.length) return null;
    const { name, datatype, shape } = output;
    if (
      output.data !== undefined ||
      typeof name !== 'string' ||
      typeof datatype !== 'string' ||
      !Object.hasOwn(TENSOR_DATATYPES, datatype) ||
      !isShape(shape)
    )
      return null;
    if (shape.reduce((n, d) => n * d, 1) > MAX_TENSOR_ELEMENTS) return null;
    try {
      output.data = tensorFromBytes(
        { name, datatype: datatype as TensorDatatype, shape },
        bytes.subarray(at, at + (size as number)),
      ).data;
    } catch {
      return null;
    }
    at += size as number;
  }
  return at === bytes.length ? head : null;
}

/** A decoded answer as the node's JSON answer would have been (typed arrays as plain arrays): for the oracle's re-runs. */
export function answerAsJson(body: unknown): unknown {
  const outputs = (body as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) return body;
  return {
    ...(body as object),
    outputs: outputs.map((o: { data?: unknown; parameters?: Record<string, unknown> }) => {
      if (!ArrayBuffer.isView(o?.data)) return o;
      const { parameters: given, ...rest } = o;
      const { binary_data_size: _size, ...parameters } = given ?? {};
      return {
        ...rest,
        data: Array.from(o.data as unknown as ArrayLike<number>),
        ...(Object.keys(parameters).length ? { parameters } : {}),
      };
    }),
  };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
