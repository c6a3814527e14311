import {
  inferRequestSchema,
  isWithinJsonDepth,
  parseWith,
  TENSOR_DATATYPES,
  type InferRequest,
} from '@hexedge/protocol';

/**
 * `POST /v1/infer` (and the MQTT payload) checked by hand on the hot path: the common, well-formed
 * request is recognised here and built as `inferRequestSchema` would build it (unknown keys dropped);
 * anything else — every error, and the rare shapes this does not know (a placement policy) — goes to
 * the schema itself, so errors are the schema's, word for word. zod's object, union and array parsing
 * was ~2–3 % of the gateway's CPU per request (profiled). A differential test holds the two to the same
 * answers (request-shape.test.ts).
 */
export function parseInferRequest(body: unknown): InferRequest {
  return readInferRequest(body) ?? parseWith(inferRequestSchema, body, { what: 'infer request' });
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;
/** A record of parameters (a key named `__proto__` is left to the schema: copying it would be ambiguous). */
const isParameters = (v: unknown) =>
  v === undefined ||
  (isObject(v) &&
    Object.getPrototypeOf(v) === Object.prototype &&
    !Object.hasOwn(v, '__proto__') &&
    isWithinJsonDepth(v));
const ID = /^[\x21-\x7e]+$/;

function readLocation(v: unknown): InferRequest['location'] | undefined {
  if (!isObject(v)) return undefined;
  const keys = Object.keys(v);
  if (
    keys.length === 2 &&
    typeof v.lat === 'number' &&
    typeof v.lng === 'number' &&
    Number.isFinite(v.lat) &&
    Number.isFinite(v.lng)
  )
    return { lat: v.lat, lng: v.lng };
  if (keys.length === 1 && isString(v.cell, 0, 32)) return { cell: v.cell };
  return undefined;
}

type Input = NonNullable<InferRequest['inputs']>[number];
function readInput(v: unknown): Input | undefined {
  if (
    !isObject(v) ||
    !isString(v.name, 1, 256) ||
    typeof v.datatype !== 'string' ||
    !Object.hasOwn(TENSOR_DATATYPES, v.datatype)
  )
    return undefined;
  const { shape, data } = v;
  if (
    !Array.isArray(shape) ||
    shape.length > 16 ||
    !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
  )
    return undefined;
  if (!(
    Array.isArray(data) ||
    typeof data === 'number' ||
    typeof data === 'string' ||
    typeof data === 'boolean'
  ))
    return undefined;
  if (typeof data === 'number' && !Number.isFinite(data)) return undefined;
  if (!isParameters(v.parameters)) return undefined;
  return {
    name: v.name,
    shape: [...(shape as number[])],
    datatype: v.datatype as Input['datatype'],
    ...(v.parameters !== undefined ? { parameters: { ...(v.parameters as Json) } } : {}),
    data: data as Input['data'],
  };
}

type Output = NonNullable<InferRequest['outputs']>[number];
function readOutput(v: unknown): Output | undefined {
  if (!isObject(v) || !isString(v.name, 1, 256) || !isParameters(v.parameters)) return undefined;
  return {
    name: v.name,
    ...(v.parameters !== undefined ? { parameters: { ...(v.parameters as Json) } } : {}),
  };
}

function readAll<T>(v: unknown, max: number, read: (x: unknown) => T | undefined, min = 0): T[] | undefined {
  if (!Array.isArray(v) || v.length < min || v.length > max) return undefined;
  const out: T[] = [];
  for (const x of v) {
    const r = read(x);
    if (r === undefined) return undefined;
    out.push(r);
  }
  return out;
}

/** The request as the schema would parse it, or undefined for anything but the common well-formed shape. */
export function readInferRequest(body: unknown): InferRequest | undefined {
  // Unknown keys are dropped, as by the schema; a policy (or anything known to be rare) goes to it.
  if (!isObject(body) || 'policy' in body) return undefined;
  if (!isString(body.model, 1, 128)) return undefined;
  if (body.version !== undefined && !isString(body.version, 1, 64)) return undefined;
  if (body.id !== undefined && !(isString(body.id, 1, 128) && ID.test(body.id))) return undefined;
  const location = readLocation(body.location);
  if (!location) return undefined;
  const hasInputs = body.inputs !== undefined;
  if (hasInputs === (body.input !== undefined)) return undefined;
  const inputs = hasInputs ? readAll(body.inputs, 64, readInput, 1) : undefined;
  if (hasInputs && !inputs) return undefined;
  if (body.input !== undefined && !isWithinJsonDepth(body.input)) return undefined;
  const outputs = body.outputs === undefined ? undefined : readAll(body.outputs, 64, readOutput);
  if (body.outputs !== undefined && !outputs) return undefined;
  return {
    model: body.model,
    ...(body.version !== undefined ? { version: body.version } : {}),
    location,
    ...(inputs ? { inputs } : {}),
    ...(body.input !== undefined ? { input: body.input } : {}),
    ...(outputs ? { outputs } : {}),
    ...(body.id !== undefined ? { id: body.id } : {}),
  };
}
