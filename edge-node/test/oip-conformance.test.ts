import { generateNodeKeyPair, tensorToBytes } from '@hexedge/protocol';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  MAX_OIP_BODY_BYTES,
  ModelSet,
  NodeMetrics,
  pngToRecTensor,
} from '../src/index.ts';
import { thirdPartyModels } from '../src/node/index.ts';
import { OrtNodeBackend } from '../src/node/index.ts';

/**
 * Every endpoint of the node's OIP v2 server, on real models (comfort-index, Silero VAD: INT64 scalar
 * input, PP-OCR: dynamic dims, 1 MB binary output), answers with a status and body that
 * spec/open_inference_rest.yaml allows. The spec's schemas are JSON Schema 2020-12 (OpenAPI 3.1), so
 * ajv checks bodies against them as written; the spec document itself is checked against the
 * OpenAPI 3.1 schema by @seriousme/openapi-schema-validator.
 */
const SPEC_FILE = fileURLToPath(new URL('../spec/open_inference_rest.yaml', import.meta.url));
const SPEC_ID = 'https://hexedge.invalid/open_inference_rest.yaml';
const spec = parseYaml(readFileSync(SPEC_FILE, 'utf8')) as Record<string, unknown>;
const HEADER_LENGTH = 'inference-header-content-length';

// --- the conformance checker: status and body against the spec's response for path and method ---

// Union types (string | number | boolean) are how OIP types a parameter value and a tensor element;
// `anyOf: [{ required: [data] }, …]` names properties defined beside it, which strictRequired refuses.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
// OpenAPI's own keys at the root and our x- annotations are not JSON Schema keywords; name them so
// strict mode still catches a misspelt keyword inside a schema.
ajv.addVocabulary([
  'openapi',
  'info',
  'tags',
  'paths',
  'components',
  'x-hexedge-extension',
  'x-hexedge-json-header',
]);
ajv.addSchema(spec, SPEC_ID);
const compiled = new Map<string, ValidateFunction>();

const escapeSegment = (s: string) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'));
const pointerOf = (...segments: string[]) => segments.map((s) => `/${escapeSegment(s)}`).join('');

function getAt(pointer: string): unknown {
  let node: unknown = spec;
  for (const raw of pointer.split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return node;
}

/** Follows OpenAPI `$ref`s (response, request body objects) to the object and its own pointer. */
function deref(pointer: string): { node: Record<string, unknown> | undefined; pointer: string } {
  let node = getAt(pointer) as Record<string, unknown> | undefined;
  while (typeof node?.$ref === 'string') {
    pointer = node.$ref.slice(1);
    node = getAt(pointer) as Record<string, unknown> | undefined;
  }
  return { node, pointer };
}

function schemaProblems(pointer: string, value: unknown): string[] {
  let validate = compiled.get(pointer);
  if (!validate) compiled.set(pointer, (validate = ajv.compile({ $ref: `${SPEC_ID}#${pointer}` })));
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)} [${e.schemaPath}]`,
  );
}

/** The spec path template a concrete path falls under; the most specific (fewest params) wins. */
function pathTemplateOf(path: string): string | undefined {
  const templates = Object.keys(spec.paths as object).filter((t) =>
    new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
  return templates.sort((a, b) => a.split('{').length - b.split('{').length)[0];
}

interface Body {
  contentType: string;
  bytes: Uint8Array;
  headerLength?: string | null;
}

/** Problems of one body against an OpenAPI content map (media type → schema); none is conformance. */
function contentProblems(contentPointer: string, body: Body): string[] {
  const mediaType = body.contentType.split(';')[0]!.trim().toLowerCase();
  const content = getAt(contentPointer) as Record<string, unknown> | undefined;
  if (!content?.[mediaType])
    return [`content type '${mediaType}' is not in the spec (${Object.keys(content ?? {}).join(', ')})`];
  const at = `${contentPointer}${pointerOf(mediaType)}`;
  const text = new TextDecoder();
  if (mediaType === 'application/octet-stream') {
    // Binary tensor data extension: a JSON header of Inference-Header-Content-Length bytes, then the tensors.
    const jsonBytes = Number(body.headerLength);
    if (!Number.isInteger(jsonBytes) || jsonBytes < 0 || jsonBytes > body.bytes.length)
      return [`bad Inference-Header-Content-Length ${body.headerLength}`];
    const head = JSON.parse(text.decode(body.bytes.subarray(0, jsonBytes))) as {
      inputs?: unknown[];
      outputs?: unknown[];
    };
    const tensors = (head.outputs ?? head.inputs ?? []) as { parameters?: { binary_data_size?: number } }[];
    const claimedBytes = tensors.reduce((n, t) => n + (t.parameters?.binary_data_size ?? 0), 0);
    const tail = body.bytes.length - jsonBytes;
    const problems = schemaProblems(`${at}/x-hexedge-json-header`, head);
    return claimedBytes === tail
      ? problems
      : [...problems, `binary_data_size adds to ${claimedBytes} bytes but ${tail} follow the header`];
  }
  const value =
    mediaType === 'application/json'
      ? (JSON.parse(text.decode(body.bytes)) as unknown)
      : text.decode(body.bytes);
  return schemaProblems(`${at}/schema`, value);
}

/** The spec's response object for method + path + status (unknown routes: the not_found response). */
function responsePointer(o: { method: string; path: string; status: number }): string | string[] {
  const template = pathTemplateOf(o.path);
  const operation = template
    ? (getAt(pointerOf('paths', template, o.method.toLowerCase())) as
        { responses: Record<string, unknown> } | undefined)
    : undefined;
  if (!operation)
    return o.status === 404
      ? '/components/responses/not_found'
      : [`no route ${o.method} ${o.path} in the spec, so only 404 conforms`];
  if (!operation.responses[String(o.status)])
    return [
      `status ${o.status} is not a response of ${o.method} ${template} (${Object.keys(operation.responses).join(', ')})`,
    ];
  return deref(pointerOf('paths', template!, o.method.toLowerCase(), 'responses', String(o.status))).pointer;
}

function responseProblems(o: { method: string; path: string; status: number } & Body): string[] {
  const at = responsePointer(o);
  return Array.isArray(at) ? at : contentProblems(`${at}/content`, o);
}

function requestProblems(o: { method: string; path: string } & Body): string[] {
  const template = pathTemplateOf(o.path);
  if (!template) return [`no route ${o.path}`];
  const { pointer } = deref(pointerOf('paths', template, o.method.toLowerCase(), 'requestBody'));
  return contentProblems(`${pointer}/content`, o);
}

// --- the node under test ------------------------------------------------------------------------

let app: ReturnType<typeof createOipApp>;
let serverReady = true;
let ocrInputBytes: Uint8Array;
let ocrShape: number[];
const png = new Uint8Array(
  readFileSync(fileURLToPath(new URL('./fixtures/meter-04721.png', import.meta.url))),
);

beforeAll(async () => {
  const backend = await OrtNodeBackend.create();
  const models = new ModelSet({ scheduler: { maxQueueDelayUs: 1_000 } });
  const comfortBytes = buildComfortIndexModel();
  models.add(await backend.load({ manifest: await comfortIndexManifest(comfortBytes), bytes: comfortBytes }));
  for (const m of await thirdPartyModels()) models.add(await backend.load(m));
  const metrics = new NodeMetrics();
  metrics.watch(models);
  app = createOipApp({ models, keys: await generateNodeKeyPair(), isReady: () => serverReady, metrics });
  const ocr = pngToRecTensor(png);
  ocrInputBytes = tensorToBytes(ocr);
  ocrShape = ocr.shape;
}, 60_000);

interface Sent {
  bytes: Uint8Array;
  contentType: string;
  headers?: Record<string, string>;
}
const json = (value: unknown): Sent => ({
  bytes: new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)),
  contentType: 'application/json',
});
function binary(head: unknown, ...blobs: Uint8Array[]): Sent {
  const header = new TextEncoder().encode(JSON.stringify(head));
  const bytes = new Uint8Array(header.length + blobs.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const part of [header, ...blobs]) {
    bytes.set(part, at);
    at += part.length;
  }
  return {
    bytes,
    contentType: 'application/octet-stream',
    headers: { [HEADER_LENGTH]: String(header.length) },
  };
}

const readings = (datatype = 'FP32') => ({
  inputs: [
    {
      name: 'readings',
      datatype,
      shape: [2, 3],
      data: [
        [30, 50, 600],
        [22, 45, 1600],
      ],
    },
  ],
});
const vadTensors = {
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 576], data: new Array(576).fill(0) },
    { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Array(256).fill(0) },
    { name: 'sr', datatype: 'INT64', shape: [], data: [16_000] },
  ],
};
const SILENCE_100MS_PCM16 = Buffer.alloc(2 * 1_600).toString('base64');
const readingsBytes = () =>
  tensorToBytes({
    name: 'readings',
    datatype: 'FP32',
    shape: [1, 3],
    data: Float32Array.from([21, 40, 500]),
  });

interface Case {
  method: 'GET' | 'POST';
  path: string;
  body?: () => Sent;
  status: number;
  /** The media type of the answer when not JSON (the binary extension, /metrics). */
  answers?: string;
  /** Whether the spec's request schema should accept the body (checked both ways). */
  request?: 'valid' | 'invalid';
}

const M = '/v2/models';
const CASES: Record<string, Case> = {
  'server live': { method: 'GET', path: '/v2/health/live', status: 200 },
  'server ready': { method: 'GET', path: '/v2/health/ready', status: 200 },
  'server metadata': { method: 'GET', path: '/v2', status: 200 },
  'model metadata': { method: 'GET', path: `${M}/comfort-index`, status: 200 },
  'model version metadata': { method: 'GET', path: `${M}/comfort-index/versions/1`, status: 200 },
  'metadata with an INT64 scalar input': { method: 'GET', path: `${M}/silero-vad`, status: 200 },
  'metadata with dynamic dims': { method: 'GET', path: `${M}/ppocr-rec/versions/4`, status: 200 },
  'model ready': { method: 'GET', path: `${M}/comfort-index/ready`, status: 200 },
  'model version ready': { method: 'GET', path: `${M}/ppocr-rec/versions/4/ready`, status: 200 },
  'infer, nested data, outputs named': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 200,
    request: 'valid',
    body: () => json({ id: 'c-1', ...readings(), outputs: [{ name: 'probabilities' }] }),
  },
  'infer on a version, no id': {
    method: 'POST',
    path: `${M}/comfort-index/versions/1/infer`,
    status: 200,
    request: 'valid',
    body: () => json(readings()),
  },
  'infer with an INT64 scalar': {
    method: 'POST',
    path: `${M}/silero-vad/versions/5/infer`,
    status: 200,
    request: 'valid',
    body: () => json(vadTensors),
  },
  'infer, binary input, JSON output': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 200,
    request: 'valid',
    body: () =>
      binary(
        {
          inputs: [
            { name: 'readings', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } },
          ],
        },
        readingsBytes(),
      ),
  },
  'infer, binary input and output': {
    method: 'POST',
    path: `${M}/ppocr-rec/infer`,
    status: 200,
    request: 'valid',
    answers: 'application/octet-stream',
    body: () =>
      binary(
        {
          id: 'ocr-1',
          parameters: { binary_data_output: true },
          inputs: [
            {
              name: 'x',
              datatype: 'FP32',
              shape: ocrShape,
              parameters: { binary_data_size: ocrInputBytes.length },
            },
          ],
        },
        ocrInputBytes,
      ),
  },
  'predict (VAD)': {
    method: 'POST',
    path: `${M}/silero-vad/predict`,
    status: 200,
    request: 'valid',
    body: () => json({ id: 'vad-1', input: { audio: SILENCE_100MS_PCM16, sampleRateHz: 16_000 } }),
  },
  'predict on a version (OCR)': {
    method: 'POST',
    path: `${M}/ppocr-rec/versions/4/predict`,
    status: 200,
    request: 'valid',
    body: () => json({ input: { image: Buffer.from(png).toString('base64') } }),
  },
  metrics: { method: 'GET', path: '/metrics', status: 200, answers: 'text/plain' },

  'metadata of an unknown model': { method: 'GET', path: `${M}/nope`, status: 404 },
  'metadata of an unknown version': { method: 'GET', path: `${M}/comfort-index/versions/9`, status: 404 },
  'readiness of an unknown model': { method: 'GET', path: `${M}/nope/ready`, status: 404 },
  'readiness of an unknown version': {
    method: 'GET',
    path: `${M}/comfort-index/versions/9/ready`,
    status: 404,
  },
  'infer on an unknown model': {
    method: 'POST',
    path: `${M}/nope/infer`,
    status: 404,
    body: () => json(readings()),
  },
  'infer on an unknown version': {
    method: 'POST',
    path: `${M}/comfort-index/versions/9/infer`,
    status: 404,
    body: () => json(readings()),
  },
  'infer with the wrong datatype': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 400,
    request: 'valid',
    body: () => json(readings('INT32')),
  },
  'infer with a datatype OIP lacks': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 400,
    request: 'invalid',
    body: () => json(readings('FP8')),
  },
  'infer without inputs': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 400,
    request: 'invalid',
    body: () => json({ id: 'x' }),
  },
  'infer asking for an unknown output': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 400,
    request: 'valid',
    body: () => json({ ...readings(), outputs: [{ name: 'nope' }] }),
  },
  'infer with malformed JSON': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 400,
    body: () => json('{"inputs":'),
  },
  'infer with binary data short of binary_data_size': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 400,
    body: () =>
      binary(
        {
          inputs: [
            { name: 'readings', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } },
          ],
        },
        new Uint8Array(8),
      ),
  },
  'infer with a body over the limit': {
    method: 'POST',
    path: `${M}/comfort-index/infer`,
    status: 413,
    body: () => ({ bytes: new Uint8Array(MAX_OIP_BODY_BYTES + 1), contentType: 'application/json' }),
  },
  'predict on a model without a pipeline': {
    method: 'POST',
    path: `${M}/comfort-index/predict`,
    status: 404,
    request: 'valid',
    body: () => json({ input: {} }),
  },
  'predict with bad domain input': {
    method: 'POST',
    path: `${M}/silero-vad/predict`,
    status: 400,
    request: 'valid',
    body: () => json({ input: { audio: '!!', sampleRateHz: 44_100 } }),
  },
  'predict with malformed JSON': {
    method: 'POST',
    path: `${M}/silero-vad/versions/5/predict`,
    status: 400,
    body: () => json('{'),
  },
  'a route OIP lacks': { method: 'GET', path: '/v2/nope', status: 404 },
  'a method the route lacks': { method: 'GET', path: `${M}/comfort-index/infer`, status: 404 },
};

async function exchange(c: Pick<Case, 'method' | 'path' | 'body'>) {
  const sent = c.body?.();
  const res = await app.request(c.path, {
    method: c.method,
    ...(sent && {
      body: sent.bytes as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': sent.contentType, ...sent.headers },
    }),
  });
  const received: Body = {
    contentType: res.headers.get('content-type') ?? '',
    bytes: new Uint8Array(await res.arrayBuffer()),
    headerLength: res.headers.get(HEADER_LENGTH),
  };
  return { sent, status: res.status, received };
}

describe('OIP v2 conformance against spec/open_inference_rest.yaml', () => {
  it('the spec is a valid OpenAPI 3.1 document whose $refs all resolve', async () => {
    const validator = new Validator();
    const result = await validator.validate(SPEC_FILE);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // A dangling $ref fails, so the check above can fail.
    const broken = readFileSync(SPEC_FILE, 'utf8').replace(
      "$ref: '#/components/schemas/datatype'",
      "$ref: '#/components/schemas/datatypo'",
    );
    expect((await new Validator().validate(parseYaml(broken) as Record<string, unknown>)).valid).toBe(false);
  });

  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const { sent, status, received } = await exchange(c);
    expect(status).toBe(c.status);
    expect(received.contentType.split(';')[0]).toBe(c.answers ?? 'application/json');
    expect(responseProblems({ method: c.method, path: c.path, status, ...received })).toEqual([]);
    if (!c.request) return;
    const problems = requestProblems({
      method: c.method,
      path: c.path,
      ...sent!,
      headerLength: sent!.headers?.[HEADER_LENGTH],
    });
    if (c.request === 'valid') expect(problems).toEqual([]);
    else expect(problems).not.toEqual([]);
  });

  it('answers 503 with { ready: false } while the server is not ready', async () => {
    serverReady = false;
    try {
      const { status, received } = await exchange({ method: 'GET', path: '/v2/health/ready' });
      expect(status).toBe(503);
      expect(JSON.parse(new TextDecoder().decode(received.bytes))).toEqual({ ready: false });
      expect(responseProblems({ method: 'GET', path: '/v2/health/ready', status, ...received })).toEqual([]);
    } finally {
      serverReady = true;
    }
  });

  it('echoes the request id and answers only the outputs asked for', async () => {
    const { received } = await exchange({
      method: 'POST',
      path: `${M}/silero-vad/infer`,
      body: () => json({ id: 'vad-2', ...vadTensors, outputs: [{ name: 'stateN' }] }),
    });
    const answer = JSON.parse(new TextDecoder().decode(received.bytes)) as {
      id: string;
      outputs: { name: string; shape: number[] }[];
    };
    expect(answer.id).toBe('vad-2');
    expect(answer.outputs.map((o) => [o.name, o.shape])).toEqual([['stateN', [2, 1, 128]]]);
  });

  it.each([
    ['live as a string', 'GET', '/v2/health/live', 200, { live: 'yes' }],
    ['server ready as the prose misprints it', 'GET', '/v2/health/ready', 200, { live: true }],
    [
      'a metadata tensor with a bad dim and datatype',
      'GET',
      `${M}/x`,
      200,
      {
        name: 'x',
        platform: 'onnx_onnxv1',
        inputs: [{ name: 'a', datatype: 'FLOAT', shape: [-2] }],
        outputs: [],
      },
    ],
    ['an inference response without outputs', 'POST', `${M}/x/infer`, 200, { model_name: 'x', id: '1' }],
    [
      'an output without data or binary_data_size',
      'POST',
      `${M}/x/versions/1/infer`,
      200,
      { model_name: 'x', id: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }] },
    ],
    [
      'a parameter that is an object',
      'POST',
      `${M}/x/infer`,
      200,
      { model_name: 'x', id: '1', parameters: { hexedge_receipt: { sig: 'a' } }, outputs: [] },
    ],
    ['an error object without error', 'POST', `${M}/x/infer`, 400, { message: 'bad' }],
    [
      'a predict answer without its receipt',
      'POST',
      `${M}/x/predict`,
      200,
      { model_name: 'x', model_version: '1', id: '1', output: 1, parameters: {} },
    ],
    ['a status the operation lacks', 'GET', '/v2/health/live', 500, { error: 'x' }],
  ] as const)('catches a non-conforming answer: %s', (_what, method, path, status, body) => {
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    expect(responseProblems({ method, path, status, contentType: 'application/json', bytes })).not.toEqual(
      [],
    );
  });
});
