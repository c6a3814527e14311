import { HexEdgeError, TENSOR_DATATYPES, tensorFromBytes, tensorToBytes, tensorToJson, type Tensor, type TensorDatatype } from '@hexedge/protocol';

/**
 * The binary tensor data extension as Triton implements it: the body is a JSON header of
 * `Inference-Header-Content-Length` bytes followed by raw tensor bytes; an input (or output) whose
 * `parameters.binary_data_size` is set has its data there instead of in JSON. Images and audio then
 * travel as bytes, not as JSON number arrays.
 */
export const HEADER_LENGTH = 'inference-header-content-length';
export const BINARY_EXTENSION = 'binary_tensor_data';

const decoder = new TextDecoder();

interface RawInput {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: Record<string, unknown>;
}

/** Splits a binary-extension body: returns the JSON header with each binary input's data filled in. */
export function parseBinaryBody(body: Uint8Array, headerLength: string): { json: unknown; binaryInputs: Map<string, Tensor> } {
  const jsonBytes = Number(headerLength);
  if (!Number.isInteger(jsonBytes) || jsonBytes < 0 || jsonBytes > body.length) {
    throw new HexEdgeError('INVALID_REQUEST', `Inference-Header-Content-Length ${JSON.stringify(headerLength)} is not an integer in [0, ${body.length}]`);
  }
  let json: { inputs?: RawInput[] };
  try {
    json = JSON.parse(decoder.decode(body.subarray(0, jsonBytes)));
  } catch {
    throw new HexEdgeError('INVALID_JSON', 'the inference header is not valid JSON');
  }
  const binaryInputs = new Map<string, Tensor>();
  let at = jsonBytes;
  for (const input of Array.isArray(json?.inputs) ? json.inputs : []) {
    const size = input?.parameters?.binary_data_size;
    if (size === undefined) continue;
    // Not String(): a header's name may be an array nested 100 000 deep (its toString overflows the stack).
    const name = typeof input.name === 'string' ? input.name : '(not a string)';
    if (!Number.isInteger(size) || (size as number) < 0 || at + (size as number) > body.length) {
      throw new HexEdgeError('INVALID_TENSOR', `input '${name}': binary_data_size ${typeof size === 'object' && size !== null ? 'that is not a number' : JSON.stringify(size)} runs past the ${body.length - jsonBytes} bytes of binary data`);
    }
    if (input.data !== undefined) throw new HexEdgeError('INVALID_TENSOR', `input '${name}' has both data and binary_data_size`);
    const shape = input.shape as number[];
    // The schema check names a bad shape or datatype; here they only must not reach tensorFromBytes (a nested shape overflows the stack).
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number') || typeof input.datatype !== 'string' || !Object.hasOwn(TENSOR_DATATYPES, input.datatype)) continue;
    binaryInputs.set(name, tensorFromBytes({ name, datatype: input.datatype as TensorDatatype, shape }, body.subarray(at, at + (size as number))));
    input.data = []; // placeholder so the JSON schema accepts the header; replaced by the binary tensor
    at += size as number;
  }
  if (at !== body.length) throw new HexEdgeError('INVALID_REQUEST', `${body.length - at} bytes of binary data are not claimed by any input`);
  return { json, binaryInputs };
}

/** Which outputs the client wants as binary: all (`binary_data_output`) or those flagged per output. */
export function binaryOutputNames(request: { parameters?: Record<string, unknown> | undefined; outputs?: { name: string; parameters?: Record<string, unknown> | undefined }[] | undefined }): Set<string> | 'all' {
  if (request.parameters?.binary_data_output === true) return 'all';
  return new Set((request.outputs ?? []).filter((o) => o.parameters?.binary_data === true).map((o) => o.name));
}

/** Builds the response body: JSON outputs inline, binary ones as bytes after the JSON header. */
export function encodeResponse(
  head: Record<string, unknown>,
  outputs: readonly Tensor[],
  binary: Set<string> | 'all',
): { body: string | Uint8Array; headerLength?: number } {
  const isBinary = (name: string) => binary === 'all' || binary.has(name);
  if (!outputs.some((o) => isBinary(o.name))) return { body: JSON.stringify({ ...head, outputs: outputs.map(tensorToJson) }) };
  const blobs: Uint8Array[] = [];
  const jsonOutputs = outputs.map((o) => {
    if (!isBinary(o.name)) return tensorToJson(o);
    const bytes = tensorToBytes(o);
    blobs.push(bytes);
    return { name: o.name, datatype: o.datatype, shape: o.shape, parameters: { binary_data_size: bytes.length } };
  });
  const header = new TextEncoder().encode(JSON.stringify({ ...head, outputs: jsonOutputs }));
  const out = new Uint8Array(header.length + blobs.reduce((n, b) => n + b.length, 0));
  out.set(header, 0);
  let at = header.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return { body: out, headerLength: header.length };
}
