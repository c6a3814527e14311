import { oipInferenceRequestSchema, parseWith, TENSOR_DATATYPES } from '@hexedge/protocol';

/** An infer request as the schema returns it. */
export type OipInferenceRequest = ReturnType<typeof oipInferenceRequestSchema.parse>;

/**
 * The infer request's schema check, with a hand-written fast path for the common shape (zod cost ~5 µs
 * a request under load, profiled). The zod schema stays the spec: the fast path answers only when it
 * is sure zod would accept the value, and then builds the value zod would return; anything else (extra
 * keys, a bad value, an unusual form) goes to `parseWith(oipInferenceRequestSchema)`, which accepts it
 * or throws the error the client has always got. `parameters` objects are always zod's to parse.
 */
export function parseInferenceRequest(json: unknown): OipInferenceRequest {
  return (
    fastInferenceRequest(json) ?? parseWith(oipInferenceRequestSchema, json, { what: 'inference request' })
  );
}

const ROOT_KEYS = new Set(['id', 'parameters', 'inputs', 'outputs']);
const INPUT_KEYS = new Set(['name', 'shape', 'datatype', 'parameters', 'data']);
const OUTPUT_KEYS = new Set(['name', 'parameters']);
// The schema's limits (protocol/src/schemas/oip.ts); the equivalence tests hold them to zod's at each edge.
const MAX_TENSORS_PER_REQUEST = 64;
const MAX_SHAPE_DIMS = 16;
const MAX_NAME_LENGTH = 256;
const MAX_ID_LENGTH = 256;
const parametersSchema = oipInferenceRequestSchema.shape.parameters;

type Parameters = Record<string, unknown> | undefined;
/** `undefined`: the fast path is not sure (zod decides). */
const UNSURE = undefined;

/** A JSON object (what JSON.parse makes) whose own keys are all in `allowed`, none holding `undefined`. */
function isPlainWith(v: unknown, allowed: ReadonlySet<string>): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const key in v)
    if (!allowed.has(key) || (v as Record<string, unknown>)[key] === undefined) return false;
  // `for in` skips non-enumerable and symbol keys; JSON.parse makes neither, anything else is zod's.
  return Reflect.ownKeys(v).length === Object.keys(v).length;
}

const isName = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= MAX_NAME_LENGTH;

/** A JSON object of scalars only (`binary_data_size`, `binary_data`): one level deep, no odd keys. */
function isFlatScalars(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const keys = Object.keys(v);
  if (keys.length > 8 || Reflect.ownKeys(v).length !== keys.length) return false;
  for (const key of keys) {
    if (key === '__proto__') return false;
    const x = (v as Record<string, unknown>)[key];
    if (typeof x !== 'number' && typeof x !== 'string' && typeof x !== 'boolean' && x !== null) return false;
  }
  return true;
}

/** zod's answer for a `parameters` value: `{ value }` when it accepts it, UNSURE when not. */
function parseParameters(v: unknown): { value: Parameters } | undefined {
  if (v === undefined) return { value: undefined };
  // What zod's record returns for such an object: a copy with the same keys and values.
  if (isFlatScalars(v)) return { value: { ...v } };
  const r = parametersSchema.safeParse(v);
  return r.success ? { value: r.data } : UNSURE;
}

function fastInput(v: unknown): OipInferenceRequest['inputs'][number] | undefined {
  if (!isPlainWith(v, INPUT_KEYS) || !isName(v.name)) return UNSURE;
  const { shape, datatype, data } = v;
  if (!Array.isArray(shape) || shape.length > MAX_SHAPE_DIMS) return UNSURE;
  for (const d of shape) if (!Number.isSafeInteger(d) || (d as number) < 0) return UNSURE;
  if (typeof datatype !== 'string' || !Object.hasOwn(TENSOR_DATATYPES, datatype)) return UNSURE;
  // The schema's outer check of data (protocol's oip.ts); elements are checkTensor's.
  if (!(
    Array.isArray(data) ||
    typeof data === 'number' ||
    typeof data === 'string' ||
    typeof data === 'boolean'
  ))
    return UNSURE;
  const parameters = parseParameters(v.parameters);
  if (!parameters) return UNSURE;
  return {
    name: v.name,
    shape: [...(shape as number[])],
    datatype: datatype as OipInferenceRequest['inputs'][number]['datatype'],
    ...(parameters.value !== undefined ? { parameters: parameters.value } : {}),
    data,
  };
}

function fastOutput(v: unknown): NonNullable<OipInferenceRequest['outputs']>[number] | undefined {
  if (!isPlainWith(v, OUTPUT_KEYS) || !isName(v.name)) return UNSURE;
  const parameters = parseParameters(v.parameters);
  if (!parameters) return UNSURE;
  return { name: v.name, ...(parameters.value !== undefined ? { parameters: parameters.value } : {}) };
}

/** The request as zod would return it, or UNSURE. Exported for the equivalence tests. */
export function fastInferenceRequest(json: unknown): OipInferenceRequest | undefined {
  if (!isPlainWith(json, ROOT_KEYS)) return UNSURE;
  const { id, inputs, outputs } = json;
  if (id !== undefined && (typeof id !== 'string' || id.length > MAX_ID_LENGTH)) return UNSURE;
  if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > MAX_TENSORS_PER_REQUEST) return UNSURE;
  const parsedInputs: OipInferenceRequest['inputs'] = [];
  for (const i of inputs) {
    const input = fastInput(i);
    if (!input) return UNSURE;
    parsedInputs.push(input);
  }
  let parsedOutputs: OipInferenceRequest['outputs'];
  if (outputs !== undefined) {
    if (!Array.isArray(outputs) || outputs.length > MAX_TENSORS_PER_REQUEST) return UNSURE;
    parsedOutputs = [];
    for (const o of outputs) {
      const output = fastOutput(o);
      if (!output) return UNSURE;
      parsedOutputs.push(output);
    }
  }
  const parameters = parseParameters(json.parameters);
  if (!parameters) return UNSURE;
  return {
    ...(id !== undefined ? { id } : {}),
    ...(parameters.value !== undefined ? { parameters: parameters.value } : {}),
    inputs: parsedInputs,
    ...(parsedOutputs !== undefined ? { outputs: parsedOutputs } : {}),
  };
}
