import { isWithinJsonDepth, TENSOR_DATATYPES, type TensorDatatype } from '@hexedge/protocol';

/** An OIP output as a node answered it: `data` is a flat JSON array, or a typed array from the binary extension. */
export interface AnsweredOutput {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  data: unknown[] | ArrayBufferView;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isParameters = (v: unknown) => v === undefined || (isObject(v) && isWithinJsonDepth(v));
const isOptionalString = (v: unknown) => v === undefined || typeof v === 'string';
const isScalar = (v: unknown) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';

function isOutput(o: unknown): o is AnsweredOutput {
  if (
    !isObject(o) ||
    typeof o.name !== 'string' ||
    typeof o.datatype !== 'string' ||
    !Object.hasOwn(TENSOR_DATATYPES, o.datatype)
  )
    return false;
  const { shape, data } = o;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    return false;
  if (!isParameters(o.parameters)) return false;
  if (ArrayBuffer.isView(data)) return true;
  return Array.isArray(data) && data.every(isScalar);
}

/**
 * The OIP inference answer's shape, checked by hand on the hot path: what `oipInferenceResponseSchema`
 * accepts (model_name; optional model_version, id; parameters a record within the JSON depth bound;
 * outputs with a name, a datatype, a shape of non-negative integers and flat scalar data), plus typed
 * arrays from binary answers, which the schema cannot express. The values themselves are checked next by
 * `checkTensor` (datatype, shape, range), as before. Undefined when the answer is malformed.
 */
export function readOipAnswer(
  body: unknown,
): { outputs: AnsweredOutput[]; parameters: Record<string, unknown> | undefined } | undefined {
  if (
    !isObject(body) ||
    typeof body.model_name !== 'string' ||
    !isOptionalString(body.model_version) ||
    !isOptionalString(body.id)
  )
    return undefined;
  if (!isParameters(body.parameters) || !Array.isArray(body.outputs) || !body.outputs.every(isOutput))
    return undefined;
  return {
    outputs: body.outputs as AnsweredOutput[],
    parameters: body.parameters as Record<string, unknown> | undefined,
  };
}
