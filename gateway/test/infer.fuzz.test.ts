import fc from 'fast-check';
import { ERROR_CODES, generateNodeKeyPair, TENSOR_DATATYPE_NAMES } from '@hexedge/protocol';
import { Placement } from '@hexedge/placement';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGatewayApp, type NodeAnswer, type NodeClient } from '../src/index.ts';
import { fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';
import {
  assertNoPollution,
  bounded,
  corpusText,
  isErrorCode,
  loadCorpus,
  maybeNasty,
  nastyJson,
  nastyNumber,
  nastyString,
  Raw,
  toJsonText,
  withinMs,
} from '@hexedge/protocol/testing';

/*
 * Property: every /v1/infer body, header and policy either answers 200 or the documented error
 * (`{ error: { code, message } }`, the code's HTTP status, never 500), within a bounded time, without
 * calling a node when the request itself is refused, without touching placement's node records,
 * and without polluting Object.prototype. Nodes' answers are input too: whatever a node sends, the
 * gateway fails over or answers a documented error.
 */

const REQUEST_STATUSES = new Set([400, 401, 403, 404, 413, 429]);
const CALL_MS = 5_000;

let placement: Placement;
let near: FakeNode;
let far: FakeNode;
let client: ReturnType<typeof fakeNodes>;
let app: ReturnType<typeof createGatewayApp>['app'];
let consoleError: ReturnType<typeof vi.spyOn>;

beforeAll(async () => {
  near = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
  far = { keys: await generateNodeKeyPair(), url: 'http://far.test', mode: 'ok' };
});

beforeEach(async () => {
  placement = new Placement({ heartbeatIntervalMs: 60_000 });
  await register(placement, near, 52.3, 4.8);
  await register(placement, far, 48.85, 2.35);
  client = fakeNodes([near, far]);
  app = createGatewayApp({ placement, keys: await keyRing(), nodeClient: client }).app;
  consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => consoleError.mockRestore());

const nodesSnapshot = () => JSON.stringify([...placement.registry.values()]);

async function post(text: string, headers: Record<string, string> = {}) {
  return withinMs(CALL_MS, 'POST /v1/infer', async () => {
    const res = await app.request('/v1/infer', { method: 'POST', body: text, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers } });
    return { status: res.status, json: (await res.json()) as { error?: { code?: unknown; message?: unknown } } };
  });
}

/** The documented outcomes of one request; `calledNodes` says whether a node may have been asked. */
function expectDocumented(res: { status: number; json: { error?: { code?: unknown; message?: unknown } } }, context: string) {
  expect(res.status, context).not.toBe(500);
  if (res.status === 200) return;
  const { error } = res.json;
  expect(isErrorCode(error?.code), `${context}: code ${String(error?.code)}`).toBe(true);
  expect(ERROR_CODES[error!.code as keyof typeof ERROR_CODES].httpStatus, context).toBe(res.status);
  expect(typeof error!.message, context).toBe('string');
  expect(consoleError, `${context}: an unexpected error was logged`).not.toHaveBeenCalled();
}

const tensor = fc.record(
  {
    name: maybeNasty(fc.constantFrom('x', 'readings')),
    datatype: maybeNasty(fc.constantFrom(...TENSOR_DATATYPE_NAMES)),
    shape: maybeNasty(fc.array(fc.oneof(fc.integer({ min: -3, max: 4 }), fc.constantFrom(2 ** 31, 2 ** 53, 1e9, 0.5, -0)), { maxLength: 5 })),
    data: maybeNasty(fc.oneof(fc.array(nastyNumber, { maxLength: 8 }), fc.array(fc.array(fc.double(), { maxLength: 3 }), { maxLength: 3 }), fc.array(fc.boolean()), fc.array(nastyString, { maxLength: 3 }))),
    parameters: nastyJson,
  },
  { requiredKeys: ['name', 'datatype', 'shape', 'data'] },
);
const location = fc.oneof(
  fc.record({ lat: maybeNasty(fc.double({ min: -100, max: 100, noNaN: true })), lng: maybeNasty(fc.double({ min: -200, max: 200, noNaN: true })) }),
  fc.record({ cell: maybeNasty(fc.constantFrom('871faeaa9ffffff', '8f2830828052d25', '7f1faeaa9ffffff', '871faeaa9fffff', 'zzzzzzzzzzzzzzz', '')) }),
  nastyJson,
);
const policy = fc.record(
  {
    maxLatencyMs: maybeNasty(nastyNumber),
    deadlineMs: maybeNasty(fc.oneof(fc.integer({ min: 1, max: 2_000 }), nastyNumber)),
    region: maybeNasty(fc.constantFrom('DE', 'eu', '150', 'FR', 'XX', 'zz', 'EU', '001', 'US-CA')),
    prefer: maybeNasty(fc.constantFrom('latency', 'price', 'balanced')),
    minTrust: maybeNasty(fc.double({ min: -1, max: 2, noNaN: true })),
    hedge: maybeNasty(fc.boolean()),
  },
  { requiredKeys: [] },
);
const inferBody = fc.record(
  {
    model: maybeNasty(fc.constantFrom('m', 'nope', 'M')),
    version: maybeNasty(fc.constantFrom('1', '2')),
    location,
    inputs: maybeNasty(fc.array(tensor, { minLength: 1, maxLength: 3 })),
    input: nastyJson,
    outputs: maybeNasty(fc.array(fc.record({ name: maybeNasty(fc.constantFrom('y', 'z')) }), { maxLength: 2 })),
    id: maybeNasty(fc.string({ minLength: 1, maxLength: 20 })),
    policy,
    extra: fc.constant(new Raw('{"__proto__":{"polluted":true}}')),
  },
  { requiredKeys: ['model', 'location'] },
);

describe('fuzz: POST /v1/infer', () => {
  it('answers every structured body with 200 or a documented error, refusing without calling a node', async () => {
    await fc.assert(
      fc.asyncProperty(inferBody, async (body) => {
        consoleError.mockClear();
        const before = nodesSnapshot();
        const calls = client.calls.length;
        const text = toJsonText(body);
        const res = await post(text);
        expectDocumented(res, text.slice(0, 300));
        if (REQUEST_STATUSES.has(res.status)) {
          expect(client.calls.length, `refused request called a node: ${text.slice(0, 300)}`).toBe(calls);
          expect(nodesSnapshot()).toBe(before);
        }
        assertNoPollution();
      }),
      bounded(250, 4_000),
    );
  });

  it('answers any text, any content type and any Authorization header with a documented error', async () => {
    const valid = toJsonText({ model: 'm', location: { lat: 52.37, lng: 4.9 }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }] });
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      nastyJson.map(toJsonText),
      // The valid body with a slice cut out or something pasted in.
      fc.tuple(fc.nat(valid.length), fc.nat(20), fc.string({ maxLength: 10 })).map(([at, cut, paste]) => valid.slice(0, at) + paste + valid.slice(at + cut)),
    );
    const headers = fc.record(
      { authorization: fc.oneof(fc.constant(`Bearer ${KEY}`), fc.constant(`bearer ${KEY}`), fc.constant(`Bearer ${KEY} `), fc.string({ maxLength: 40 }), fc.constant('Bearer hx_abc_def')), 'content-type': fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', '') },
      { requiredKeys: ['authorization'] },
    );
    await fc.assert(
      fc.asyncProperty(text, headers, async (t, h) => {
        consoleError.mockClear();
        const calls = client.calls.length;
        const res = await post(t, h);
        expectDocumented(res, t.slice(0, 300));
        if (REQUEST_STATUSES.has(res.status)) expect(client.calls.length).toBe(calls);
        assertNoPollution();
      }),
      bounded(250, 2_500),
    );
  });

  it('replays the corpus of nastiest bodies as regression cases', async () => {
    for (const c of loadCorpus(new URL('./corpus/infer-bodies.json', import.meta.url))) {
      const calls = client.calls.length;
      const res = await post(corpusText(c));
      expectDocumented(res, c.name);
      if (c.status !== undefined) expect(res.status, c.name).toBe(c.status);
      if (REQUEST_STATUSES.has(res.status)) expect(client.calls.length, c.name).toBe(calls);
      assertNoPollution();
    }
  });
});

describe('fuzz: what a node answers', () => {
  /** The nearest node answers `rogue` (or throws it); the next one is honest. */
  function rogueFirst(rogue: () => NodeAnswer): NodeClient {
    const honest = fakeNodes([far]);
    return {
      async post(request) {
        if (request.url.startsWith(near.url)) return rogue();
        return honest.post(request);
      },
    };
  }

  const answerBody = fc.oneof(
    nastyJson,
    fc.record({ error: maybeNasty(fc.string()), code: maybeNasty(fc.constantFrom(...Object.keys(ERROR_CODES), 'NOPE', '__proto__', 'constructor', 'toString')) }, { requiredKeys: [] }),
    fc.record(
      {
        model_name: maybeNasty(fc.constant('m')),
        id: nastyJson,
        parameters: fc.oneof(nastyJson, fc.record({ hexedge_receipt: fc.oneof(nastyString, nastyJson.map(toJsonText)) })),
        outputs: maybeNasty(fc.array(fc.record({ name: fc.constant('y'), datatype: fc.constantFrom('FP32', 'INT8', 'BYTES'), shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), data: fc.array(fc.oneof(fc.double({ noNaN: true }), fc.string()), { maxLength: 5 }) }), { maxLength: 2 })),
      },
      { requiredKeys: [] },
    ),
  );
  const answer = fc.record({ status: fc.oneof(fc.constantFrom(200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 413, 422, 429, 500, 503), fc.integer({ min: 100, max: 599 })), body: answerBody });

  it('fails over from, or reports as documented, any answer a node sends', async () => {
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        consoleError.mockClear();
        const rogueApp = createGatewayApp({ placement, keys: await keyRing(), nodeClient: rogueFirst(() => JSON.parse(toJsonText(a)) as NodeAnswer) }).app;
        const res = await withinMs(CALL_MS, 'rogue node', async () => {
          const r = await rogueApp.request('/v1/infer', { method: 'POST', body: toJsonText({ model: 'm', location: { lat: 52.37, lng: 4.9 }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }] }), headers: { authorization: `Bearer ${KEY}` } });
          return { status: r.status, json: (await r.json()) as { error?: { code?: unknown; message?: unknown }; node?: { id: string } } };
        });
        const context = toJsonText(a).slice(0, 300);
        expectDocumented(res, context);
        // A node's 4xx is passed on as the request's fault; anything else it sends must not stop the failover.
        if (a.status < 400 || a.status >= 500) {
          expect(res.status, context).toBe(200);
          expect(res.json.node!.id).toBe(far.keys.nodeId);
        } else if (res.status === 200) {
          // Placement may rank the honest node first (a probation node keeps first place only sometimes).
          expect(res.json.node!.id).toBe(far.keys.nodeId);
        } else {
          expect(res.status >= 400 && res.status < 500, context).toBe(true);
        }
        assertNoPollution();
      }),
      bounded(200, 2_500),
    );
  });

  it('replays the corpus of rogue answers with the rogue as the only candidate', async () => {
    for (const c of loadCorpus(new URL('./corpus/node-answers.json', import.meta.url))) {
      // A placement per case: the rogue's earlier faults would open its circuit (503), as they should.
      const alone = new Placement({ heartbeatIntervalMs: 60_000 });
      await register(alone, near, 52.3, 4.8);
      const answer = JSON.parse(corpusText(c)) as NodeAnswer;
      const rogueApp = createGatewayApp({ placement: alone, keys: await keyRing(), nodeClient: rogueFirst(() => answer) }).app;
      const r = await rogueApp.request('/v1/infer', { method: 'POST', body: toJsonText({ model: 'm', location: { lat: 52.37, lng: 4.9 }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }] }), headers: { authorization: `Bearer ${KEY}` } });
      const res = { status: r.status, json: (await r.json()) as { error?: { code?: unknown; message?: unknown } } };
      expectDocumented(res, c.name);
      expect(res.status, c.name).toBe(c.status);
      assertNoPollution();
    }
  });
});
