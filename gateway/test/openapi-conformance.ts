import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Checks answers against an OpenAPI 3.1 document the way a client generated from it would read them:
 * the status must be one the operation lists (not only `default`), the media type one it lists for
 * that status, and a JSON body must validate against the listed schema. Schemas are JSON Schema
 * 2020-12 (OpenAPI 3.1's dialect), so ajv checks them as written, `$ref`s into the document included.
 */
export type OpenApiDoc = Record<string, unknown> & {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

const DOC_ID = 'https://hexedge.invalid/openapi.json';
const escapeSegment = (s: string) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'));
const pointerOf = (...segments: string[]) => segments.map((s) => `/${escapeSegment(s)}`).join('');

export class OpenApiConformance {
  readonly doc: OpenApiDoc;
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();
  readonly #templates: Array<{ template: string; pattern: RegExp }>;

  constructor(doc: OpenApiDoc) {
    this.doc = doc;
    this.#ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    // The document's own keys, and those OpenAPI adds inside schemas, are not JSON Schema keywords.
    this.#ajv.addVocabulary(['openapi', 'info', 'tags', 'paths', 'components', 'webhooks', 'example']);
    this.#ajv.addSchema(doc, DOC_ID);
    this.#templates = Object.keys(doc.paths).map((template) => ({
      template,
      pattern: new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
      ),
    }));
  }

  /** The path template a concrete path matches (`/v1/nodes/abc` → `/v1/nodes/{id}`); literal paths win. */
  templateOf(pathname: string): string | undefined {
    const matches = this.#templates.filter((t) => t.pattern.test(pathname));
    return (
      matches.find((t) => t.template === pathname)?.template ??
      matches.sort((a, b) => b.template.length - a.template.length)[0]?.template
    );
  }

  /** What is wrong with an answer, by the document; empty when it conforms. */
  problems(answer: {
    method: string;
    pathname: string;
    status: number;
    contentType: string | null;
    body: unknown;
  }): string[] {
    const template = this.templateOf(answer.pathname);
    if (!template) return [`no path in the document matches ${answer.pathname}`];
    const method = answer.method.toLowerCase();
    const op = this.doc.paths[template]![method];
    if (!op) return [`${method.toUpperCase()} ${template} is not in the document`];
    const status = String(answer.status);
    const response = op.responses[status];
    if (!response) return [`${method.toUpperCase()} ${template} does not list status ${status}`];
    if (!response.content)
      return answer.body === undefined || answer.body === ''
        ? []
        : [`status ${status} lists no body but one came`];
    const mediaType = (answer.contentType ?? '').split(';')[0]!.trim();
    const listed = Object.keys(response.content);
    const key = listed.find((m) => m === mediaType) ?? listed.find((m) => m === '*/*');
    if (!key)
      return [`${method.toUpperCase()} ${template} ${status} lists ${listed.join(', ')}, not ${mediaType}`];
    if (!key.endsWith('json')) return [];
    const pointer = pointerOf('paths', template, method, 'responses', status, 'content', key, 'schema');
    let validate = this.#compiled.get(pointer);
    if (!validate)
      this.#compiled.set(pointer, (validate = this.#ajv.compile({ $ref: `${DOC_ID}#${pointer}` })));
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`,
    );
  }

  /** Reads a fetch Response (its body once) and checks it; returns the body for the test's own asserts. */
  async check(method: string, url: string, res: Response): Promise<{ body: unknown; problems: string[] }> {
    const contentType = res.headers.get('content-type');
    const text = await res.text();
    const body = contentType?.includes('json') && text ? (JSON.parse(text) as unknown) : text;
    return {
      body,
      problems: this.problems({
        method,
        pathname: new URL(url).pathname,
        status: res.status,
        contentType,
        body,
      }),
    };
  }
}
