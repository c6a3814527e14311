import fc from 'fast-check';
import { ERROR_CODES, generateNodeKeyPair, HexEdgeError, TENSOR_DATATYPE_NAMES } from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  ModelSet,
  NodeMetrics,
  parseBinaryBody,
} from '../src/index.ts';
import { OrtNodeBackend, readModelDir, writeModel } from '../src/node/index.ts';
import {
  assertNoPollution,
  bounded,
  corpusText,
  loadCorpus,
  maybeNasty,
  nastyJson,
  nastyNumber,
  nastyString,
  toJsonText,
  withinMs,
} from '@hexedge/protocol/testing';

/*
 * Property: the OIP v2 server, on the real comfort-index model in ONNX Runtime, answers every infer
 * and predict body — JSON or binary tensor extension, any Inference-Header-Content-Length — with 200
 * or the OIP error object `{ error, code }` with the code's status, never 500, within a bounded time;
 * and the node keeps serving a valid request afterwards.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-oip-fuzz-'));
let app: ReturnType<typeof createOipApp>;
let consoleError: ReturnType<typeof vi.spyOn>;
const encoder = new TextEncoder();

beforeAll(async () => {
  const bytes = buildComfortIndexModel();
  await writeModel({ dir, manifest: await comfortIndexManifest(bytes), bytes });
  const read = await readModelDir(dir);
  const models = new ModelSet({ scheduler: { maxQueueDelayUs: 500 } });
  const backend = await OrtNodeBackend.create();
  for (const a of read.artifacts) models.add(await backend.load(a));
  app = createOipApp({
    models,
    keys: await generateNodeKeyPair(),
    isReady: () => true,
    metrics: new NodeMetrics(),
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => consoleError.mockRestore());

async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  return withinMs(5_000, `POST ${url}`, async () => {
    const res = await app.request(url, {
      method: 'POST',
      body: body as BodyInit,
      headers: { 'content-type': 'application/json', ...headers },
    });
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      json: type.includes('json') ? ((await res.json()) as { error?: unknown; code?: unknown }) : {},
    };
  });
}

function expectDocumented(
  res: { status: number; json: { error?: unknown; code?: unknown } },
  context: string,
) {
  expect(res.status, context).not.toBe(500);
  if (res.status === 200) return;
  expect(typeof res.json.error, context).toBe('string');
  expect(
    Object.hasOwn(ERROR_CODES, res.json.code as string),
    `${context}: code ${String(res.json.code)}`,
  ).toBe(true);
  expect(ERROR_CODES[res.json.code as keyof typeof ERROR_CODES].httpStatus, context).toBe(res.status);
  expect(consoleError, context).not.toHaveBeenCalled();
}

const valid = {
  id: 'ok',
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [22, 45, 600] }],
};
async function stillServes() {
  const res = await post('/v2/models/comfort-index/infer', JSON.stringify(valid));
  expect(res.status).toBe(200);
}

const url = fc.constantFrom(
  '/v2/models/comfort-index/infer',
  '/v2/models/comfort-index/versions/1/infer',
  '/v2/models/comfort-index/versions/2/infer',
  '/v2/models/nope/infer',
  '/v2/models/__proto__/infer',
  '/v2/models/constructor/versions/toString/infer',
  '/v2/models/comfort-index/predict',
);
const tensor = fc.record(
  {
    name: maybeNasty(fc.constantFrom('readings', 'x')),
    datatype: maybeNasty(fc.constantFrom(...TENSOR_DATATYPE_NAMES)),
    shape: maybeNasty(
      fc.oneof(
        fc.constant([1, 3]),
        fc.constant([2, 3]),
        fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 4 }),
        fc.constant([0, 3]),
        fc.constant([2 ** 31, 3]),
      ),
    ),
    data: maybeNasty(
      fc.oneof(
        fc.array(nastyNumber, { maxLength: 7 }),
        fc.array(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 3, maxLength: 3 }), {
          maxLength: 2,
        }),
        fc.array(nastyString, { maxLength: 3 }),
      ),
    ),
    parameters: maybeNasty(fc.constant({})),
  },
  { requiredKeys: ['name', 'datatype', 'shape', 'data'] },
);
const inferBody = fc.record(
  {
    id: maybeNasty(fc.string({ maxLength: 10 })),
    inputs: maybeNasty(fc.array(tensor, { minLength: 1, maxLength: 2 })),
    outputs: maybeNasty(
      fc.array(
        fc.record({
          name: maybeNasty(fc.constantFrom('probabilities', 'label', 'nope')),
          parameters: maybeNasty(fc.record({ binary_data: fc.boolean() })),
        }),
        { maxLength: 2 },
      ),
    ),
    parameters: maybeNasty(fc.record({ binary_data_output: maybeNasty(fc.boolean()) })),
  },
  { requiredKeys: [] },
);

describe('fuzz: OIP v2 infer (real comfort-index model)', () => {
  it('answers every JSON body with 200 or the OIP error object', async () => {
    await fc.assert(
      fc.asyncProperty(
        url,
        fc.oneof(
          { weight: 4, arbitrary: inferBody.map(toJsonText) },
          { weight: 1, arbitrary: nastyJson.map(toJsonText) },
          { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
        ),
        async (u, text) => {
          consoleError.mockClear();
          expectDocumented(await post(u, text), `${u} ${text.slice(0, 300)}`);
          assertNoPollution();
        },
      ),
      bounded(200, 3_000),
    );
    await stillServes();
  });

  it('answers every binary-extension body (any header length, sizes that do not fit) with 200 or the OIP error object', async () => {
    const binaryCase = fc.record({
      inputs: fc.array(
        fc.record({
          name: maybeNasty(fc.constantFrom('readings', 'x')),
          datatype: maybeNasty(
            fc.constantFrom(...TENSOR_DATATYPE_NAMES, '__proto__', 'constructor', 'toString'),
          ),
          shape: maybeNasty(
            fc.oneof(
              fc.constant([1, 3]),
              fc.array(fc.integer({ min: -2, max: 4 }), { maxLength: 3 }),
              fc.constant([2 ** 40, 2 ** 40]),
            ),
          ),
          size: maybeNasty(fc.oneof(fc.constant(12), fc.integer({ min: -4, max: 40 }), fc.constant(2 ** 53))),
          data: fc.option(fc.constant([1, 2, 3]), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 2 },
      ),
      blob: fc.uint8Array({ maxLength: 40 }),
      headerLengthDelta: fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 5 })),
      headerLength: fc.option(
        fc.constantFrom('', '-1', '1e3', '0x10', ' 12', 'NaN', 'Infinity', '9007199254740993'),
        { nil: undefined },
      ),
    });
    await fc.assert(
      fc.asyncProperty(binaryCase, async (b) => {
        consoleError.mockClear();
        const header = encoder.encode(
          toJsonText({
            inputs: b.inputs.map((i) => ({
              name: i.name,
              datatype: i.datatype,
              shape: i.shape,
              ...(i.data ? { data: i.data } : {}),
              parameters: { binary_data_size: i.size },
            })),
          }),
        );
        const body = new Uint8Array(header.length + b.blob.length);
        body.set(header);
        body.set(b.blob, header.length);
        const headerLength = b.headerLength ?? String(header.length + b.headerLengthDelta);
        const context = `${new TextDecoder().decode(header).slice(0, 200)} +${b.blob.length} bytes, header length ${headerLength}`;
        expectDocumented(
          await post('/v2/models/comfort-index/infer', body, {
            'inference-header-content-length': headerLength,
            'content-type': 'application/octet-stream',
          }),
          context,
        );
        // The parser alone: a value or a HexEdgeError, nothing else.
        try {
          parseBinaryBody(body, headerLength);
        } catch (err) {
          expect(err, context).toBeInstanceOf(HexEdgeError);
        }
        assertNoPollution();
      }),
      bounded(200, 2_000),
    );
    await stillServes();
  });

  it('answers predict bodies for a model without a pipeline with 404, whatever they hold', async () => {
    await fc.assert(
      fc.asyncProperty(nastyJson, async (v) => {
        consoleError.mockClear();
        expectDocumented(
          await post('/v2/models/comfort-index/predict', toJsonText({ input: v })),
          toJsonText(v).slice(0, 200),
        );
      }),
      bounded(50, 500),
    );
  });

  it('replays the corpus of nastiest OIP bodies', async () => {
    for (const c of loadCorpus(new URL('./corpus/oip-bodies.json', import.meta.url))) {
      const headers: Record<string, string> =
        c.headerLength !== undefined ? { 'inference-header-content-length': String(c.headerLength) } : {};
      let body: string | Uint8Array = corpusText(c);
      if (c.binaryHex !== undefined) {
        const head = encoder.encode(body);
        const blob = Uint8Array.from((c.binaryHex as string).match(/../g) ?? [], (h) => parseInt(h, 16));
        body = new Uint8Array([...head, ...blob]);
        if (c.headerLength === undefined) headers['inference-header-content-length'] = String(head.length);
      }
      const res = await post(
        (c.url as string | undefined) ?? '/v2/models/comfort-index/infer',
        body,
        headers,
      );
      expectDocumented(res, c.name);
      if (c.status !== undefined) expect(res.status, c.name).toBe(c.status);
      assertNoPollution();
    }
    await stillServes();
  });
});
