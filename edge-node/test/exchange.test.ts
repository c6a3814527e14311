import {
  decodeExchangeAnswer,
  encodeExchange,
  EXCHANGE_ACCEPTED_HEADER,
  EXCHANGE_CONTENT_TYPE,
  EXCHANGE_PATH,
  EXCHANGE_VERSION,
  ForwardMacKeys,
  generateNodeKeyPair,
  macForward,
  MAX_EXCHANGE_BYTES,
  MAX_EXCHANGE_PART_BODY_BYTES,
  RECEIPT_PARAMETER,
  verifyReceipt,
  type ExchangeAnswerPart,
  type ForwardRoute,
  type NodeKeyPair,
  type SignedReceipt,
} from '@hexedge/protocol';
import { listenHttp, type HttpListener } from '@hexedge/protocol/node';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  ModelSet,
  NodeMetrics,
} from '../src/index.ts';
import { listenOip, OrtNodeBackend } from '../src/node/index.ts';

/**
 * `POST /v2/exchange` on a node with real onnxruntime (comfort-index), over real sockets, through the
 * Node listener's direct route and through hono alone: every part gets every check a single request
 * gets (forward MAC, addressee, replay guard, body limit, input checks, overload shedding) and a bad
 * part fails alone; a malformed exchange is refused whole with one error naming the fault.
 */
const PATH = '/v2/models/comfort-index/versions/1/infer';
let node: NodeKeyPair, gateway: NodeKeyPair, relay: NodeKeyPair;
let models: ModelSet;
let tinyQueue: ModelSet;
let metrics: NodeMetrics;
let direct: HttpListener, viaHono: HttpListener, overloaded: HttpListener;
let macs: ForwardMacKeys;
let seq = 0;

beforeAll(async () => {
  [node, gateway, relay] = await Promise.all([1, 2, 3].map(() => generateNodeKeyPair()));
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  const backend = await OrtNodeBackend.create();
  models = new ModelSet();
  models.add(await backend.load({ manifest, bytes }));
  // Two requests queue at most: an exchange of many parts finds the queue full.
  tinyQueue = new ModelSet({ scheduler: { maxQueueSize: 2 } });
  tinyQueue.add(await backend.load({ manifest, bytes }));
  const callers = { isKnown: (id: string) => id === gateway.nodeId };
  metrics = new NodeMetrics();
  const app = createOipApp({ models, keys: node, isReady: () => true, callers, metrics });
  direct = await listenOip({ app, port: 0, host: '127.0.0.1' });
  viaHono = await listenHttp({ app, port: 0, host: '127.0.0.1' });
  overloaded = await listenOip({
    app: createOipApp({ models: tinyQueue, keys: node, isReady: () => true, callers }),
    port: 0,
    host: '127.0.0.1',
  });
  macs = new ForwardMacKeys({ keys: gateway });
});
afterAll(async () => {
  await Promise.all([direct, viaHono, overloaded].map((l) => l.close()));
  await Promise.all([models.releaseAll(), tinyQueue.releaseAll()]);
});

/** A fresh infer body (its own id). */
const bodyOf = (data = [24, 45, 700]) =>
  JSON.stringify({ id: `x${seq++}`, inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data }] });

/** A part MAC'd by the gateway for `target` (this node by default) over `body`. */
async function part(
  o: { body?: string; path?: string; route?: ForwardRoute; target?: string; macBody?: string } = {},
) {
  const body = o.body ?? bodyOf();
  const headers = await macForward({
    macs,
    targetNodeId: o.target ?? node.nodeId,
    route: o.route ?? 'infer',
    modelName: 'comfort-index',
    modelVersion: '1',
    body: o.macBody ?? body,
    nowMs: Date.now(),
  });
  return { path: o.path ?? PATH, headers: { 'content-type': 'application/json', ...headers! }, body };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
/** A raw HTTP/1.1 POST on its own connection (declared length unless chunked). */
function post(
  base: string,
  o: { path?: string; body: Uint8Array | string; headers?: Record<string, string>; chunked?: boolean },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(o.body);
    const headers: Record<string, string> = { 'content-type': EXCHANGE_CONTENT_TYPE, ...o.headers };
    if (!o.chunked && headers['content-length'] === undefined)
      headers['content-length'] = String(body.length);
    const req = http.request(
      `${base}${o.path ?? EXCHANGE_PATH}`,
      { method: 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    if (o.chunked) req.write(body.subarray(0, 5));
    req.end(o.chunked ? body.subarray(5) : body);
  });
}

/**
 * The framing written by hand, as an attacker would (protocol's encoder refuses to send past its
 * limits; a forger need not use it).
 */
function forge(
  parts: readonly { path: string; headers: Record<string, string>; body: string | Uint8Array }[],
) {
  const bytes: number[] = [0x48, 0x58, 0x58, 0x31, parts.length >> 8, parts.length & 0xff];
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  for (const p of parts) {
    bytes.push(p.path.length >> 8, p.path.length & 0xff, ...ascii(p.path), Object.keys(p.headers).length);
    for (const [k, v] of Object.entries(p.headers))
      bytes.push(k.length, ...ascii(k), v.length >> 8, v.length & 0xff, ...ascii(v));
    const body = typeof p.body === 'string' ? new TextEncoder().encode(p.body) : p.body;
    bytes.push(body.length >>> 24, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff);
    for (const b of body) bytes.push(b);
  }
  return Uint8Array.from(bytes);
}

async function exchange(
  base: string,
  parts: Parameters<typeof encodeExchange>[0],
): Promise<ExchangeAnswerPart[]> {
  const a = await post(base, { body: forge(parts) });
  expect(a.status, a.body.toString()).toBe(200);
  expect(a.headers['content-type']).toBe(EXCHANGE_CONTENT_TYPE);
  expect(a.headers[EXCHANGE_ACCEPTED_HEADER]).toBe(EXCHANGE_VERSION);
  return decodeExchangeAnswer(a.body, parts.length);
}

const jsonOf = (p: ExchangeAnswerPart) =>
  JSON.parse(new TextDecoder().decode(p.body)) as Record<string, unknown>;

async function expectServed(p: ExchangeAnswerPart, id: string) {
  expect(p.status, new TextDecoder().decode(p.body)).toBe(200);
  expect(p.headers[EXCHANGE_ACCEPTED_HEADER]).toBe(EXCHANGE_VERSION);
  const answer = jsonOf(p) as {
    id: string;
    outputs: { data: number[] }[];
    parameters: Record<string, string>;
  };
  expect(answer.id).toBe(id);
  expect(answer.outputs[0]!.data).toHaveLength(3);
  const receipt = JSON.parse(answer.parameters[RECEIPT_PARAMETER]!) as SignedReceipt;
  expect(await verifyReceipt(receipt)).toMatchObject({ ok: true });
  expect(receipt.body.nodeId).toBe(node.nodeId);
}

const idOf = (body: string) => (JSON.parse(body) as { id: string }).id;

const countOf = async (base: string, line: RegExp) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? 0);
};

describe('POST /v2/exchange on a node', () => {
  it.each([
    ['the direct listener', () => direct.url],
    ['hono alone', () => viaHono.url],
  ])('through %s: good parts served, each bad part refused alone with its own error', async (_via, base) => {
    // A forward served alone first: its copy inside an exchange is a replay.
    const served = await part();
    const single = await post(base(), {
      path: PATH,
      body: served.body,
      headers: served.headers,
    });
    expect(single.status).toBe(200);
    expect(single.headers[EXCHANGE_ACCEPTED_HEADER]).toBe(EXCHANGE_VERSION);
    const good1 = await part();
    const good2 = await part({ body: bodyOf([30, 60, 1500]) });
    const escaped = await part({ path: '/v2/models/comfort%2Dindex/versions/1/infer' });
    const badMac = await part({ macBody: bodyOf() });
    const forRelay = await part({ target: relay.nodeId });
    const wrongRoute = await part({ route: 'predict' });
    const big = bodyOf().replace('"inputs"', `"pad":"${'x'.repeat(MAX_EXCHANGE_PART_BODY_BYTES)}","inputs"`);
    const oversized = await part({ body: big });
    const last = await part();
    const badTensor = await part({
      body: JSON.stringify({
        id: 'bad',
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
      }),
    });
    const parts = [
      good1,
      badMac,
      served,
      forRelay,
      good2,
      wrongRoute,
      { ...oversized, body: new TextEncoder().encode(big) },
      badTensor,
      { ...good1, path: EXCHANGE_PATH },
      { ...good1, path: '/v1/oracle/challenge' },
      { ...(await part()), path: '/v2/models/comfort-index/versions/1/predict' },
      escaped,
      // Framing headers in a part are the exchange's, not the part's: dropped, the part still served.
      { ...last, headers: { ...last.headers, 'content-length': '1', 'transfer-encoding': 'chunked' } },
    ];
    const answers = await exchange(base(), parts);
    const code = (i: number) => [answers[i]!.status, jsonOf(answers[i]!).code];
    await expectServed(answers[0]!, idOf(good1.body));
    expect(code(1)).toEqual([403, 'FORBIDDEN']);
    expect(jsonOf(answers[1]!).error).toMatch(/^request refused: /);
    expect(code(2)).toEqual([409, 'REPLAYED']);
    expect(code(3)).toEqual([403, 'FORBIDDEN']);
    await expectServed(answers[4]!, idOf(good2.body));
    expect(code(5)).toEqual([403, 'FORBIDDEN']);
    expect(code(6)).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(jsonOf(answers[6]!).error).toBe(
      `exchange part 6: body of ${big.length} bytes exceeds ${MAX_EXCHANGE_PART_BODY_BYTES}; send it alone`,
    );
    expect(code(7)).toEqual([400, 'INVALID_TENSOR']);
    expect(code(8)).toEqual([404, 'NOT_FOUND']);
    expect(jsonOf(answers[8]!).error).toBe(
      'exchange part 8: "/v2/exchange" is not an infer or predict route',
    );
    expect(code(9)).toEqual([404, 'NOT_FOUND']);
    // A predict part goes through the app's predict route (this model has no pipeline: its 404 says so).
    expect(code(10)).toEqual([404, 'NOT_FOUND']);
    expect(jsonOf(answers[10]!).error).toMatch(/has no pre\/post-processing pipeline/);
    await expectServed(answers[11]!, idOf(escaped.body));
    await expectServed(answers[12]!, idOf(last.body));
  });

  it('serves the same forward twice in one exchange once: the copy is a replay (409), the first served', async () => {
    const twice = await part();
    const answers = await exchange(direct.url, [twice, twice]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const served = answers.find((a) => a.status === 200)!;
    await expectServed(served, idOf(twice.body));
    expect(jsonOf(answers.find((a) => a.status === 409)!).code).toBe('REPLAYED');
  });

  it('refuses alone a part whose path the URL parser would move onto another route (dot segments, backslashes)', async () => {
    const paths = [
      '/v2/models/../versions/1/predict',
      '/v2/models/..\\..\\v1\\oracle\\x/predict',
      '/v2/models/comfort-index/versions/./predict',
    ];
    const good = await part();
    const answers = await exchange(direct.url, [...paths.map((path) => ({ ...good, path })), good]);
    for (const [i, path] of paths.entries()) {
      expect([answers[i]!.status, jsonOf(answers[i]!).code]).toEqual([400, 'INVALID_REQUEST']);
      expect(jsonOf(answers[i]!).error).toBe(
        `exchange part ${i}: path ${JSON.stringify(path)} is not in normal form`,
      );
    }
    await expectServed(answers[3]!, idOf(good.body));
  });

  it('counts served exchanges and their parts in /metrics', async () => {
    const before = await countOf(direct.url, /^hexedge_node_exchanges_total\{outcome="ok"\} (\d+)$/m);
    const parts = await Promise.all([part(), part(), part()]);
    const answers = await exchange(direct.url, parts);
    for (const [i, a] of answers.entries()) await expectServed(a, idOf(parts[i]!.body));
    expect(await countOf(direct.url, /^hexedge_node_exchanges_total\{outcome="ok"\} (\d+)$/m)).toBe(
      before + 1,
    );
    expect(await countOf(direct.url, /^hexedge_node_exchange_parts_count (\d+)$/m)).toBeGreaterThanOrEqual(1);
  });

  it('sheds parts past the queue limit alone (503 OVERLOADED with Retry-After); the rest are served', async () => {
    const parts = await Promise.all(Array.from({ length: 24 }, () => part()));
    const answers = await exchange(overloaded.url, parts);
    const statuses = answers.map((a) => a.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    for (const [i, a] of answers.entries()) {
      if (a.status === 200) await expectServed(a, idOf(parts[i]!.body));
      else {
        expect(jsonOf(a).code).toBe('OVERLOADED');
        expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('refuses a malformed exchange whole, naming the fault, and serves none of it', async () => {
    const good = await part();
    const framed = encodeExchange([good]);
    const cases: [Uint8Array | string, number, RegExp][] = [
      ['GET / HTTP/1.1', 400, /^exchange starts with 0x47455420, not "HXX1"$/],
      [framed.subarray(0, framed.length - 3), 400, /^exchange ends early: part 0's body needs/],
      [Uint8Array.of(0x48, 0x58, 0x58, 0x31, 0, 65), 400, /^exchange holds 65 parts; 1 to 64 allowed$/],
    ];
    for (const base of [direct.url, viaHono.url]) {
      for (const [body, status, message] of cases) {
        const a = await post(base, { body });
        expect(a.status).toBe(status);
        expect(JSON.parse(a.body.toString())).toMatchObject({ error: expect.stringMatching(message) });
      }
      // Too big: refused from the declared length, before the body is read.
      const big = await post(base, {
        body: '',
        headers: { 'content-length': String(MAX_EXCHANGE_BYTES + 1) },
      });
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body.toString()).code).toBe('PAYLOAD_TOO_LARGE');
    }
    // Nothing of the refused exchanges was served: the good part is still fresh, and serves once.
    const answers = await exchange(direct.url, [good]);
    await expectServed(answers[0]!, idOf(good.body));
    expect(
      await countOf(direct.url, /^hexedge_node_exchanges_total\{outcome="INVALID_REQUEST"\} (\d+)$/m),
    ).toBeGreaterThanOrEqual(3);
  });

  it('serves a chunked exchange through hono with the same limits', async () => {
    const parts = await Promise.all([part(), part()]);
    const a = await post(direct.url, { body: encodeExchange(parts), chunked: true });
    expect(a.status).toBe(200);
    const answers = decodeExchangeAnswer(a.body, 2);
    for (const [i, p] of answers.entries()) await expectServed(p, idOf(parts[i]!.body));
  });
});
