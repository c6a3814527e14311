import { HexEdgeError, isHexEdgeError, type ErrorCode } from '@hexedge/protocol';
import { z, type Hook } from '@hono/zod-openapi';
import type { Context } from 'hono';

/**
 * Query and path parameters as zod schemas that zod-openapi both documents and validates. Each one
 * wraps the route's own parse function (which throws the HexEdgeError a caller has always got: same
 * code, same message naming the bad value), and describes the value for the document from the same
 * bounds the parse function checks. `validationHook` turns the failed check back into that error.
 */

/** What the document says of a parameter (an OpenAPI schema object's keys, plus the parameter's own). */
export interface ParamDoc {
  type: 'string' | 'number' | 'integer';
  description?: string;
  minimum?: number;
  maximum?: number;
  default?: string | number;
  enum?: readonly string[];
  pattern?: string;
  maxLength?: number;
  example?: string | number;
  /** A query parameter the route cannot do without (path parameters are always required). */
  required?: boolean;
}

/** A repeated query parameter (`?k=1&k=2`) counts by its first value, as `c.req.query(name)` reads it. */
const firstValue = (raw: unknown) => (Array.isArray(raw) ? raw[0] : raw);

/** The parameter checked by `parse`, which throws HexEdgeError for a bad value and returns the parsed one. */
export function checked<T>(parse: (raw: string | undefined) => T, doc: ParamDoc) {
  const { required, description, example, ...schema } = doc;
  return z
    .preprocess(firstValue, z.string().optional())
    .transform((raw, ctx): T => {
      try {
        return parse(raw);
      } catch (err) {
        if (!isHexEdgeError(err)) throw err;
        ctx.addIssue({
          code: 'custom',
          message: err.message,
          params: { code: err.code, details: err.details },
        });
        return z.NEVER;
      }
    })
    .openapi({
      ...schema,
      ...(description ? { description } : {}),
      ...(example !== undefined ? { example } : {}),
      ...(required ? { param: { required: true } } : {}),
    } as never);
}

/** A path parameter: always present (hono matched it), documented as required. */
export const pathParam = <T>(parse: (raw: string) => T, doc: Omit<ParamDoc, 'required'>) =>
  checked((raw) => parse(raw ?? ''), { ...doc, required: true });

/** `c.req.valid(target)` for a handler that is not typed by its route: the schema gives the type. */
export const valid = <S extends z.ZodType>(c: Context, target: 'query' | 'param', _schema: S): z.output<S> =>
  c.req.valid(target as never) as z.output<S>;

/**
 * zod-openapi's validation hook: a failed parameter check becomes the HexEdgeError it started as (the
 * gateway's error handler answers it with its status, code, message and request id). An issue that
 * did not come from a parse function (a schema of zod's own checks) is named by target and field.
 */
export const validationHook: Hook<unknown, never, string, undefined> = (result) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const params = (issue as { params?: { code?: ErrorCode; details?: Record<string, unknown> } } | undefined)
    ?.params;
  if (params?.code) throw new HexEdgeError(params.code, issue!.message, params.details);
  const field = issue?.path.join('.') || '(root)';
  throw new HexEdgeError('INVALID_REQUEST', `${result.target} ${field}: ${issue?.message ?? 'invalid'}`, {
    field,
  });
};

// --- parse functions shared by several routes ---

/** An integer in [min, max], `fallback` when absent: `k must be an integer in [1, 100], got "x"`. */
export function intInRange(options: { name: string; min: number; max: number; fallback?: number }) {
  const { name, min, max, fallback } = options;
  return (raw: string | undefined): number => {
    const value = raw === undefined && fallback !== undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`,
      );
    return value;
  };
}

/** A number that must be given: blank is missing (INVALID_REQUEST), not a number is INVALID_LOCATION. */
export function requiredNumber(name: string) {
  return (raw: string | undefined): number => {
    if (raw === undefined || raw.trim() === '')
      throw new HexEdgeError('INVALID_REQUEST', `query parameter ${name} is required`);
    const value = Number(raw);
    if (!Number.isFinite(value))
      throw new HexEdgeError(
        'INVALID_LOCATION',
        `query parameter ${name} must be a number, got ${JSON.stringify(raw)}`,
      );
    return value;
  };
}

const LAT_LNG_RANGE = { lat: 90, lng: 180 } as const;

/** A coordinate in range, in the words of protocol's `toLatLng` (`location.lat must be a number in [-90, 90], got 95`). */
export function inCoordinateRange(axis: 'lat' | 'lng', value: number): number {
  const limit = LAT_LNG_RANGE[axis];
  if (!Number.isFinite(value) || value < -limit || value > limit)
    throw new HexEdgeError(
      'INVALID_LOCATION',
      `location.${axis} must be a number in [-${limit}, ${limit}], got ${String(value)}`,
    );
  return value;
}

/** A required query coordinate (`?lat=&lng=`): given, a number, and in range. */
export const coordinateParam = (axis: 'lat' | 'lng', description: string) =>
  checked((raw) => inCoordinateRange(axis, requiredNumber(axis)(raw)), {
    type: 'number',
    minimum: -LAT_LNG_RANGE[axis],
    maximum: LAT_LNG_RANGE[axis],
    description,
    required: true,
  });

/** An integer query parameter in [min, max] with a default, documented from the same numbers. */
export const intParam = (options: {
  name: string;
  min: number;
  max: number;
  fallback: number;
  description: string;
}) =>
  checked(intInRange(options), {
    type: 'integer',
    minimum: options.min,
    maximum: options.max,
    default: options.fallback,
    description: options.description,
  });
