import { Placement } from '@hexedge/placement';
import { listenHttp, type HttpListener } from '@hexedge/protocol/node';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGatewayApp, EventBus, KeyRing, MemoryKeyStore, RateLimiter } from '../src/index.ts';
import { directInferRoute } from '../src/infer/direct-infer.ts';
import { listenGateway } from '../src/node/index.ts';
import type { GatewayObserver } from '../src/observe.ts';
import { body, fakeNode, fakeNodes, KEY, register, type FakeNode } from './fake-nodes.ts';

/**
 * The Node listener's direct POST /v1/infer (node/infer-listener.ts, infer/direct-infer.ts) against the
 * same app served by @hono/node-server alone (protocol's listenHttp), over real sockets: two gateways
 * built alike (same keys, limits, clock and nodes), the same requests, and every answer alike —
 * status, headers, body — and every observation alike (metrics, access log, dashboard events, usage).
 */

const TIGHT_KEY = 'tight-test-key';
const SCOPED_KEY = 'scoped-test-key';
const NOW_MS = 1_800_000_000_000;

interface Side {
  listener: HttpListener;
  app: ReturnType<typeof createGatewayApp>;
  seen: unknown[];
  infer: ReturnType<typeof vi.fn>;
  /** The usage book's report for a key, by name. */
  usage: (name: string) => unknown;
  /** A value with this gateway's key ids (random) replaced by the keys' names. */
  named: (v: unknown) => unknown;
}

let placement: Placement;
let near: FakeNode;
let far: FakeNode;
let client: ReturnType<typeof fakeNodes>;
let direct: Side;
let viaHono: Side;

async function side(serve: typeof listenHttp, sharedPlacement: Placement): Promise<Side> {
  const keys = new KeyRing({ store: new MemoryKeyStore(), now: () => NOW_MS });
  const ids = [
    await keys.adopt(KEY, { name: 'admin', role: 'admin' }),
    await keys.adopt(TIGHT_KEY, { name: 'tight', ratePerSecond: 0.001, burst: 2, dailyQuota: 1000 }),
    await keys.adopt(SCOPED_KEY, { name: 'scoped', models: ['other'] }),
  ].map((record) => [record.id, record.name] as const);
  // Key ids are random per gateway: observations name the key instead.
  const named = (v: unknown) => {
    let text = JSON.stringify(v);
    for (const [id, name] of ids) text = text.replaceAll(id, `key:${name}`);
    // Request ids the gateway makes (a body without one) differ per gateway.
    text = text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'uuid');
    return JSON.parse(text) as unknown;
  };
  const seen: unknown[] = [];
  const push = (entry: unknown) => seen.push(named(entry));
  const observer: GatewayObserver = {
    httpRequest: ({ seconds: _s, ...o }) => push(['http', o]),
    inference: ({ seconds: _s, placementSeconds: _p, ...o }) => push(['inference', o]),
    walk: (o) => push(['walk', o]),
    receiptChecked: (ok) => push(['receipt', ok]),
  };
  const events = new EventBus({ now: () => NOW_MS });
  events.subscribe(
    () => true,
    (e) => {
      const { totalMs: _t, ...data } = e.data as Record<string, unknown>;
      push(['event', e.type, e.audience, data]);
    },
  );
  const app = createGatewayApp({
    placement: sharedPlacement,
    keys,
    limiter: new RateLimiter({ now: () => NOW_MS }),
    nodeClient: client,
    observer,
    log: ({ ms: _ms, requestId: _id, ...entry }) => push(['log', entry]),
    dashboard: { events, now: () => NOW_MS },
  });
  const route = directInferRoute(app.app)!;
  const infer = vi.fn(route.infer.bind(route));
  route.infer = infer;
  const listener = await serve({ app: app.app, port: 0, host: '127.0.0.1' });
  const usage = (name: string) => {
    const report = app.usage.report(ids.find(([, n]) => n === name)![0]);
    return named({ ...report, models: report.models.map(({ p50Ms: _p50, ...m }) => m) });
  };
  return { listener, app, seen, infer, usage, named };
}

beforeAll(async () => {
  placement = new Placement({ heartbeatIntervalMs: 600_000 });
  near = await fakeNode('http://near.test');
  far = await fakeNode('http://far.test');
  await register(placement, near, 52.3, 4.8);
  await register(placement, far, 48.85, 2.35);
  client = fakeNodes([near, far]);
  direct = await side(listenGateway, placement);
  viaHono = await side(listenHttp, placement);
});
afterAll(async () => {
  await Promise.all([direct, viaHono].map((s) => s.listener.close()));
});
beforeEach(() => {
  near.mode = 'ok';
  far.mode = 'ok';
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw HTTP/1.1 request on its own connection; `rawHeaders` lets a test repeat a header. */
function send(
  base: string,
  o: {
    path?: string;
    method?: string;
    headers?: Record<string, string>;
    rawHeaders?: string[];
    body?: string;
    chunked?: boolean;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = o.body === undefined ? undefined : Buffer.from(o.body);
    const headers: Record<string, string> | string[] = o.rawHeaders
      ? [...o.rawHeaders]
      : { 'content-type': 'application/json', ...o.headers };
    if (payload && !o.chunked) {
      if (Array.isArray(headers)) headers.push('content-length', String(payload.length));
      else headers['content-length'] ??= String(payload.length);
    }
    const req = http.request(
      `${base}${o.path ?? '/v1/infer'}`,
      { method: o.method ?? 'POST', headers: headers as never, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    if (payload && o.chunked) {
      req.write(payload.subarray(0, 10));
      req.end(payload.subarray(10));
    } else req.end(payload);
  });
}

const auth = (key = KEY) => ({ authorization: `Bearer ${key}`, 'x-request-id': 'req-fixed-1' });

/** The answer with what differs from run to run (signatures, clocks, timings) reduced to its shape. */
function comparable(a: Answer, named: (v: unknown) => unknown) {
  const { date: _d, ...headers } = a.headers;
  let json: unknown = a.body.toString();
  try {
    json = JSON.parse(a.body.toString());
  } catch {
    // not JSON: compared as text
  }
  const shape = (v: unknown): unknown =>
    v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
      : typeof v;
  if (json && typeof json === 'object' && 'receipt' in json) {
    const j = json as Record<string, unknown>;
    j.receipt = shape(j.receipt);
    j.timing = shape(j.timing);
    j.id = typeof j.id; // made by the gateway when the body has none
    delete headers['content-length']; // the normalised parts vary in length
  }
  // The gateway's span (and trace, when the caller sent none) is new on every request.
  if (headers.traceparent)
    headers.traceparent = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/.test(String(headers.traceparent))
      ? 'traceparent'
      : headers.traceparent;
  return { status: a.status, headers, body: named(json) };
}

/** The same request to both gateways: answers alike, direct path taken (or not), observations alike. */
async function both(request: Parameters<typeof send>[1], expectDirect = true) {
  // A fixed request id: a made one differs per request (its own test below).
  const o = request.rawHeaders
    ? request
    : { ...request, headers: { 'x-request-id': 'req-fixed-2', ...request.headers } };
  const [callsD, callsH] = [direct.infer.mock.calls.length, viaHono.infer.mock.calls.length];
  const [seenD, seenH] = [direct.seen.length, viaHono.seen.length];
  const d = await send(direct.listener.url, o);
  const h = await send(viaHono.listener.url, o);
  expect(comparable(d, direct.named)).toEqual(comparable(h, viaHono.named));
  expect(direct.infer.mock.calls.length - callsD).toBe(expectDirect ? 1 : 0);
  expect(viaHono.infer.mock.calls.length).toBe(callsH);
  await vi.waitFor(() => expect(direct.seen.length - seenD).toBe(viaHono.seen.length - seenH));
  expect(direct.seen.slice(seenD)).toEqual(viaHono.seen.slice(seenH));
  return d;
}

const errorOf = (a: Answer) =>
  (JSON.parse(a.body.toString()) as { error: { code: string; message: string } }).error;

describe('POST /v1/infer straight off the socket', () => {
  it('answers a good request as hono does: outputs, receipt, headers, observations', async () => {
    const a = await both({
      headers: { ...auth(), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      body: body({ id: 'ok-1' }),
    });
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.headers['x-request-id']).toBe('req-fixed-1');
    expect(a.headers['access-control-allow-origin']).toBe('*');
    expect(a.headers['ratelimit-limit']).toBeDefined();
    expect(a.headers['traceparent']).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
    expect(JSON.parse(a.body.toString()).node.id).toBe(near.keys.nodeId);
    expect(direct.seen.some((s) => (s as unknown[])[0] === 'event')).toBe(true);
  });

  it('replays an idempotent request alike (Idempotent-Replayed, not counted twice)', async () => {
    const a = await both({ headers: auth(), body: body({ id: 'replay-1' }) });
    const b = await both({ headers: auth(), body: body({ id: 'replay-1' }) });
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(JSON.parse(b.body.toString()).receipt).toEqual(JSON.parse(a.body.toString()).receipt);
    const report = direct.usage('admin') as { requests: number };
    expect(report).toEqual(viaHono.usage('admin'));
    expect(report.requests).toBeGreaterThan(0);
  });

  it.each([
    ['no Authorization header', {}, 'UNAUTHORIZED'],
    ['a malformed Authorization header', { authorization: 'Basic abc' }, 'UNAUTHORIZED'],
    ['an unknown key', { authorization: 'Bearer not-a-key' }, 'UNAUTHORIZED'],
    ['a bad priority header', { ...auth(), 'x-hexedge-priority': 'urgent' }, 'INVALID_REQUEST'],
    ['a bad deadline header', { ...auth(), 'x-hexedge-deadline-ms': '-5' }, 'INVALID_REQUEST'],
  ])('refuses %s alike', async (_name, headers, code) => {
    const a = await both({ headers: headers as Record<string, string>, body: body() });
    expect(errorOf(a).code).toBe(code);
  });

  it.each([
    ['a body that is not JSON', '{"model":', 'INVALID_JSON'],
    ['an empty body', '', 'INVALID_JSON'],
    ['a body failing the schema', JSON.stringify({ model: 'm', inputs: [] }), 'INVALID_REQUEST'],
    [
      'a body with a prototype key',
      '{"__proto__":{"model":"m"},"location":{"lat":1,"lng":2}}',
      'INVALID_REQUEST',
    ],
    ['an unknown model', body({ model: 'nope' }), undefined],
  ])('refuses %s alike', async (_name, text, code) => {
    const a = await both({ headers: auth(), body: text });
    expect(a.status).toBeGreaterThanOrEqual(400);
    if (code) expect(errorOf(a).code).toBe(code);
    expect(errorOf(a).message.length).toBeGreaterThan(0);
  });

  it('refuses a model outside the key’s scopes alike', async () => {
    const a = await both({ headers: auth(SCOPED_KEY), body: body() });
    expect(a.status).toBe(403);
  });

  it('answers 502 NODE_FAILED alike when every node fails', async () => {
    near.mode = 'tamper';
    far.mode = 'down';
    expect(errorOf(await both({ headers: auth(), body: body() })).code).toBe('NODE_FAILED');
  });

  it('meters alike: RateLimit headers, then 429 with Retry-After and RateLimit-Remaining 0', async () => {
    const first = await both({ headers: auth(TIGHT_KEY), body: body() });
    expect(first.headers['ratelimit-remaining']).toBe('1');
    await both({ headers: auth(TIGHT_KEY), body: body() });
    const refused = await both({ headers: auth(TIGHT_KEY), body: body() });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    expect(errorOf(refused).code).toBe('RATE_LIMITED');
  });

  it('makes a request id for a missing or unusable one, as hono’s requestId does', async () => {
    const [d, h] = [
      await send(direct.listener.url, { headers: { ...auth(), 'x-request-id': 'bad id!' }, body: '{' }),
      await send(viaHono.listener.url, { headers: { ...auth(), 'x-request-id': 'bad id!' }, body: '{' }),
    ];
    for (const a of [d, h]) {
      expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect((errorOf(a) as { requestId?: string }).requestId).toBe(a.headers['x-request-id']);
    }
  });

  it('reads a repeated Authorization header as hono does (joined, so refused)', async () => {
    const a = await both({
      rawHeaders: [
        'host',
        '127.0.0.1',
        'authorization',
        `Bearer ${KEY}`,
        'authorization',
        `Bearer ${KEY}`,
        'x-request-id',
        'r2',
      ],
      body: body(),
    });
    expect(errorOf(a).code).toBe('UNAUTHORIZED');
  });

  it('refuses a declared Content-Length over the limit before reading the body, alike', async () => {
    const a = await both({
      headers: { ...auth(), 'content-length': String(8 * 1024 * 1024 + 1) },
      body: '{}',
    });
    expect(a.status).toBe(413);
    expect(errorOf(a).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('leaves chunked bodies, query strings, preflights and other routes to hono', async () => {
    await both({ headers: auth(), body: body(), chunked: true }, false);
    await both({ path: '/v1/infer?x=1', headers: auth(), body: body() }, false);
    await both(
      {
        method: 'OPTIONS',
        headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' },
      },
      false,
    );
    await both({ method: 'PUT', headers: auth(), body: body() }, false);
    await both({ path: '/v1/infer/', headers: auth(), body: body() }, false);
  });
});

describe('a gateway whose only node for the model went quiet', () => {
  it('answers 503 NO_NODE_AVAILABLE alike', async () => {
    let nowMs = Date.now();
    const stale = new Placement({ heartbeatIntervalMs: 1000, now: () => nowMs });
    await register(stale, near, 52.3, 4.8);
    nowMs += 10_000; // no heartbeat since: unhealthy
    const [d, h] = [await side(listenGateway, stale), await side(listenHttp, stale)];
    try {
      const request = { headers: auth(), body: body() };
      const [a, b] = [await send(d.listener.url, request), await send(h.listener.url, request)];
      expect(comparable(a, d.named)).toEqual(comparable(b, h.named));
      expect(a.status).toBe(503);
      expect(errorOf(a).code).toBe('NO_NODE_AVAILABLE');
      expect(d.infer).toHaveBeenCalledTimes(1);
      expect(d.seen).toEqual(h.seen);
    } finally {
      await Promise.all([d.listener.close(), h.listener.close()]);
    }
  });
});

/** A raw socket: bytes as written, the server's bytes as they come. */
function rawSocket(base: string) {
  const url = new URL(base);
  const socket = net.connect(Number(url.port), url.hostname);
  let received = '';
  socket.on('data', (c: Buffer) => (received += c.toString()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => received, closed };
}

describe('hostile framing on the direct path', () => {
  const head = (length: number) =>
    `POST /v1/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: ${length}\r\n\r\n`;

  it('serves others while a body trickles in, and answers it once its bytes arrive', async () => {
    const text = body({ id: 'slow-1' });
    const slow = rawSocket(direct.listener.url);
    slow.socket.write(head(Buffer.byteLength(text)) + text.slice(0, 20));
    const other = await send(direct.listener.url, { headers: auth(), body: body({ id: 'fast-1' }) });
    expect(other.status).toBe(200);
    expect(slow.received()).toBe('');
    slow.socket.write(text.slice(20));
    await vi.waitFor(() => expect(slow.received()).toMatch(/^HTTP\/1\.1 200 /));
    slow.socket.destroy();
  });

  it('answers a body cut short by a closed connection without harm to the next caller', async () => {
    const before = direct.infer.mock.calls.length;
    const cut = rawSocket(direct.listener.url);
    cut.socket.write(head(500) + '{"model":"m"');
    await vi.waitFor(() => expect(direct.infer.mock.calls.length).toBe(before + 1));
    cut.socket.destroy();
    await cut.closed;
    await vi.waitFor(() =>
      expect(direct.seen.at(-2)).toEqual(['http', { route: '/v1/infer', method: 'POST', status: 400 }]),
    );
    expect((await send(direct.listener.url, { headers: auth(), body: body() })).status).toBe(200);
  });

  it('takes bytes past Content-Length as a next request, which the parser refuses, alike', async () => {
    const seen: string[] = [];
    for (const base of [direct.listener.url, viaHono.listener.url]) {
      const extra = rawSocket(base);
      extra.socket.write(head(2) + '{}GARBAGE\r\n\r\n');
      await extra.closed;
      seen.push(extra.received());
    }
    expect(seen[0]).toMatch(/HTTP\/1\.1 400 Bad Request\r\nConnection: close\r\n\r\n$/);
    // The whole write is one parse: the bad bytes end the connection (any answer to the first request
    // lost with it, on either path).
    expect(seen[1]).toMatch(/HTTP\/1\.1 400 Bad Request\r\nConnection: close\r\n\r\n$/);
    expect((await send(direct.listener.url, { headers: auth(), body: body() })).status).toBe(200);
  });

  it('closes a connection whose oversized declared body never comes (no socket held open)', async () => {
    for (const base of [direct.listener.url, viaHono.listener.url]) {
      const big = rawSocket(base);
      big.socket.write(head(8 * 1024 * 1024 + 1) + '{"model"');
      await big.closed;
      expect(big.received()).toMatch(/^HTTP\/1\.1 413 [\s\S]*PAYLOAD_TOO_LARGE/);
    }
  });
});
