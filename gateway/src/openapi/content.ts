import { ERROR_CODES, type ErrorCode } from '@hexedge/protocol';
import { z } from 'zod';

/**
 * Request and response bodies in route definitions: each names a component schema made from the zod
 * schema that the handler parses the body with (or that types what it answers), by zod's own JSON
 * Schema conversion (draft 2020-12, OpenAPI 3.1's dialect). Bodies are parsed by the handlers, not by
 * zod-openapi's body validator: the handlers' parse is shared with the MQTT ingress, records usage of
 * refused requests, and reads a body whatever its Content-Type, as the gateway always has. A `$ref`
 * keeps zod-openapi from adding a second body validator; the schema behind it is the same object.
 */

type Io = 'input' | 'output';
interface Component {
  schema: z.ZodType;
  io: Io;
}

const components = new Map<string, Component>();

/** Registers `schema` as the component `name` (once; a second schema under the same name is a bug). */
function component(name: string, schema: z.ZodType, io: Io): { $ref: string } {
  const known = components.get(name);
  if (known && (known.schema !== schema || known.io !== io))
    throw new Error(`OpenAPI component ${name} is defined twice`);
  components.set(name, { schema, io });
  return { $ref: `#/components/schemas/${name}` };
}

/** The JSON Schema of a component; `z.custom` (tensor data) and `z.unknown` become "any JSON value". */
function jsonSchemaOf({ schema, io }: Component): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
  return json;
}

/** The component schemas the document references, by name (each converted once per call). */
export function componentSchemas(names: Iterable<string>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const name of [...names].sort()) {
    const c = components.get(name);
    if (!c) throw new Error(`OpenAPI component ${name} is referenced but never defined`);
    out[name] = jsonSchemaOf(c);
  }
  return out;
}

/** A JSON request body parsed by the handler with `schema`. */
export function jsonBody(options: { name: string; schema: z.ZodType; description: string }) {
  return {
    required: true,
    description: options.description,
    content: { 'application/json': { schema: component(options.name, options.schema, 'input') } },
  };
}

/** A response header as the document describes it. */
export type HeaderDoc = {
  description: string;
  schema: { type: 'string' | 'integer'; enum?: string[]; minimum?: number };
};

/** A JSON answer typed by `schema` (its output side: defaults filled, transforms applied). */
export function jsonAnswer(options: {
  name: string;
  schema: z.ZodType;
  description: string;
  headers?: Record<string, HeaderDoc>;
}): {
  description: string;
  headers?: Record<string, HeaderDoc>;
  content: { 'application/json': { schema: { $ref: string } } };
} {
  return {
    description: options.description,
    ...(options.headers ? { headers: options.headers } : {}),
    content: { 'application/json': { schema: component(options.name, options.schema, 'output') } },
  };
}

/** Every error body: `{ error: { code, message, details?, requestId } }` (http-errors.ts). */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    requestId: z.string().optional(),
  }),
});

/** An answer that is text of some media type (HTML, Prometheus text, an event stream, bytes). */
export const textAnswer = (description: string, mediaType: string) => ({
  description,
  content: { [mediaType]: { schema: { type: 'string' as const } } },
});

const RETRY_AFTER: Record<string, HeaderDoc> = {
  'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
};

/** The error answers a route gives, each listing the codes that carry that status; `default` for the rest. */
export function errors(...statuses: number[]) {
  const ref = component('Error', errorBodySchema, 'output');
  const content = { 'application/json': { schema: ref } };
  const listed = [...new Set(statuses)]
    .sort((a, b) => a - b)
    .map((status) => {
      const codes = Object.entries(ERROR_CODES)
        .filter(([, c]) => c.httpStatus === status)
        .map(([code]) => code);
      if (codes.length === 0) throw new Error(`no HexEdge error code answers HTTP ${status}`);
      return [
        String(status),
        {
          description: codes.join(', '),
          ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
          content,
        },
      ];
    });
  // Every request may still end in INTERNAL (500), or an error a route's list does not expect.
  return { ...Object.fromEntries(listed), default: { description: 'any other error', content } };
}
