import {
  decodeExchange,
  encodeExchangeAnswer,
  FORWARD_MAC_ACCEPTED_HEADER,
  HexEdgeError,
  MAX_EXCHANGE_PART_BODY_BYTES,
  MAX_EXCHANGE_PARTS,
  type ExchangePart,
} from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import type { NodeAnswer } from '../infer/node-client.ts';
import { CoalescingNodeClient, type ExchangeTransport } from './coalescing-node-client.ts';

/**
 * The coalescing client's logic over a stand-in transport whose answers the test releases by hand: the
 * real exchange codec on both sides, the node's answers made up (each part's answer echoes its body).
 */
const URL_A = 'http://node-a.test:8080/v2/models/m/versions/1/infer';
const URL_B = 'http://node-b.test:8080/v2/models/m/versions/1/infer';
const decoder = new TextDecoder();

interface Pending<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}
interface SentPost extends Pending<{ answer: NodeAnswer; acceptsExchange: boolean }> {
  url: string;
  body: string;
  signal: AbortSignal;
}
interface SentExchange extends Pending<{ status: number; bytes: Uint8Array; acceptsExchange: boolean }> {
  origin: string;
  parts: ExchangePart[];
  signal: AbortSignal;
}

function transport() {
  const posts: SentPost[] = [];
  const exchanges: SentExchange[] = [];
  const t: ExchangeTransport = {
    targetOf: (url) => {
      const u = new URL(url);
      return { origin: u.origin, path: u.pathname, forbiddenHost: undefined };
    },
    postDetailed: (o) =>
      new Promise((resolve, reject) =>
        posts.push({ url: o.url, body: String(o.body), signal: o.signal, resolve, reject }),
      ),
    exchange: (o) =>
      new Promise((resolve, reject) =>
        exchanges.push({
          origin: o.origin,
          parts: decodeExchange(o.body),
          signal: o.signal,
          resolve,
          reject,
        }),
      ),
  };
  /** Answers a single post: 200 echoing its body, saying the node speaks exchanges (or not). */
  const answerPost = (p: SentPost, acceptsExchange = true) =>
    p.resolve({ answer: { status: 200, body: { echo: p.body } }, acceptsExchange });
  /** Answers an exchange: each part 200 echoing its body (or `statusOf(i)`), with the MAC advert. */
  const answerExchange = (e: SentExchange, statusOf = (_i: number) => 200) =>
    e.resolve({
      status: 200,
      acceptsExchange: true,
      bytes: encodeExchangeAnswer(
        e.parts.map((p, i) => ({
          status: statusOf(i),
          headers: { 'content-type': 'application/json', [FORWARD_MAC_ACCEPTED_HEADER]: 'v1' },
          body: JSON.stringify({ echo: decoder.decode(p.body) }),
        })),
      ),
    });
  return { t, posts, exchanges, answerPost, answerExchange };
}

const post = (c: CoalescingNodeClient, body: string, o: { url?: string; signal?: AbortSignal } = {}) =>
  c.post({
    url: o.url ?? URL_A,
    body,
    signal: o.signal ?? new AbortController().signal,
    headers: { 'x-hexedge-forward-mac': `mac-${body}` },
  });

/** Lets promise callbacks run (the client's continuations are promise turns, no timers). */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

/** A client with K = 2 whose node already said it speaks exchanges. */
async function warmClient(k = 2) {
  const s = transport();
  const client = new CoalescingNodeClient({ client: s.t, maxInFlightPerNode: k });
  const first = post(client, 'warm');
  s.answerPost(s.posts[0]!);
  expect(await first).toEqual({ status: 200, body: { echo: 'warm' } });
  s.posts.length = 0;
  return { ...s, client };
}

describe('CoalescingNodeClient', () => {
  it('sends every post alone to a node that has not said it speaks exchanges', async () => {
    const s = transport();
    const client = new CoalescingNodeClient({ client: s.t, maxInFlightPerNode: 1 });
    const answers = ['a', 'b', 'c', 'd'].map((b) => post(client, b));
    expect(s.posts.map((p) => p.body)).toEqual(['a', 'b', 'c', 'd']);
    s.posts.forEach((p) => s.answerPost(p, false));
    expect((await Promise.all(answers)).map((a) => a.body)).toEqual(
      ['a', 'b', 'c', 'd'].map((echo) => ({ echo })),
    );
    expect(s.exchanges).toHaveLength(0);
  });

  it('sends posts alone below K, queues beyond, and sends the queue as ONE exchange when a forward completes', async () => {
    const s = await warmClient(2);
    const answers = ['a', 'b', 'c', 'd', 'e'].map((b) => post(s.client, b));
    expect(s.posts.map((p) => p.body)).toEqual(['a', 'b']);
    expect(s.exchanges).toHaveLength(0);
    s.answerPost(s.posts[0]!);
    await turns();
    expect(s.exchanges).toHaveLength(1);
    expect(s.exchanges[0]!.origin).toBe('http://node-a.test:8080');
    const parts = s.exchanges[0]!.parts;
    expect(parts.map((p) => decoder.decode(p.body))).toEqual(['c', 'd', 'e']);
    // Each part carries the path and headers its single post would have.
    expect(parts[0]!.path).toBe('/v2/models/m/versions/1/infer');
    expect({ ...parts[0]!.headers }).toEqual({
      'content-type': 'application/json',
      'x-hexedge-forward-mac': 'mac-c',
    });
    s.answerExchange(s.exchanges[0]!, (i) => (i === 1 ? 409 : 200));
    s.answerPost(s.posts[1]!);
    const got = await Promise.all(answers);
    expect(got.map((a) => [a.status, a.body])).toEqual([
      [200, { echo: 'a' }],
      [200, { echo: 'b' }],
      [200, { echo: 'c' }],
      [409, { echo: 'd' }],
      [200, { echo: 'e' }],
    ]);
    expect(got[2]!.acceptsForwardMac).toBe(true);
  });

  it('keeps nodes apart: one node’s queue never rides another’s exchange', async () => {
    const s = await warmClient(1);
    const first = post(s.client, 'b1', { url: URL_B });
    s.answerPost(s.posts[0]!);
    await first;
    s.posts.length = 0;
    const answers = [
      post(s.client, 'a1'),
      post(s.client, 'b2', { url: URL_B }),
      post(s.client, 'a2'),
      post(s.client, 'a3'),
    ];
    expect(s.posts.map((p) => p.body)).toEqual(['a1', 'b2']);
    s.answerPost(s.posts[0]!);
    await turns();
    expect(s.exchanges.map((e) => [e.origin, e.parts.length])).toEqual([['http://node-a.test:8080', 2]]);
    s.answerPost(s.posts[1]!);
    s.answerExchange(s.exchanges[0]!);
    expect((await Promise.all(answers)).map((a) => a.body)).toEqual(
      ['a1', 'b2', 'a2', 'a3'].map((echo) => ({ echo })),
    );
  });

  it('sends a part larger than an exchange part alone at once, and a lone queued post alone', async () => {
    const s = await warmClient(1);
    const answers = [post(s.client, 'a'), post(s.client, 'b')];
    const big = 'x'.repeat(MAX_EXCHANGE_PART_BODY_BYTES);
    const bigAnswer = post(s.client, big);
    const lengths = () => s.posts.map((p) => p.body.length);
    expect(lengths()).toEqual([1, big.length]);
    s.answerPost(s.posts[0]!);
    await turns();
    // Still one forward in flight (the big one): 'b' waits; then it goes, alone (no exchange of one).
    expect(lengths()).toEqual([1, big.length]);
    s.answerPost(s.posts[1]!);
    await turns();
    expect(s.exchanges).toHaveLength(0);
    expect(s.posts.map((p) => p.body.slice(0, 1))).toEqual(['a', 'x', 'b']);
    s.answerPost(s.posts[2]!);
    const got = await Promise.all([...answers, bigAnswer]);
    expect(got.map((a) => (a.body as { echo: string }).echo.length)).toEqual([1, 1, big.length]);
  });

  it('holds an exchange to MAX_EXCHANGE_PARTS; the rest go in the next one', async () => {
    const s = await warmClient(1);
    const answers = Array.from({ length: MAX_EXCHANGE_PARTS + 6 }, (_, i) => post(s.client, `p${i}`));
    s.answerPost(s.posts[0]!);
    await turns();
    expect(s.exchanges.map((e) => e.parts.length)).toEqual([MAX_EXCHANGE_PARTS]);
    s.answerExchange(s.exchanges[0]!);
    await turns();
    expect(s.exchanges.map((e) => e.parts.length)).toEqual([MAX_EXCHANGE_PARTS, 5]);
    s.answerExchange(s.exchanges[1]!);
    expect((await Promise.all(answers)).every((a, i) => (a.body as { echo: string }).echo === `p${i}`)).toBe(
      true,
    );
  });

  it('drops a caller aborted while queued (rejected with its reason, not sent)', async () => {
    const s = await warmClient(1);
    const gone = new AbortController();
    const first = post(s.client, 'a');
    const aborted = post(s.client, 'b', { signal: gone.signal });
    const kept = [post(s.client, 'c'), post(s.client, 'd')];
    gone.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    s.answerPost(s.posts[0]!);
    await turns();
    expect(s.exchanges[0]!.parts.map((p) => decoder.decode(p.body))).toEqual(['c', 'd']);
    s.answerExchange(s.exchanges[0]!);
    expect((await Promise.all([first, ...kept])).map((a) => a.body)).toEqual(
      ['a', 'c', 'd'].map((echo) => ({ echo })),
    );
  });

  it('answers a caller aborted after sending at once and ignores its part; aborts the exchange only when all gave up', async () => {
    const s = await warmClient(1);
    const controllers = [0, 1, 2].map(() => new AbortController());
    const first = post(s.client, 'a');
    const sent = ['b', 'c', 'd'].map((b, i) => post(s.client, b, { signal: controllers[i]!.signal }));
    s.answerPost(s.posts[0]!);
    await first;
    await turns();
    const exchange = s.exchanges[0]!;
    controllers[0]!.abort(new Error('b gave up'));
    await expect(sent[0]).rejects.toThrow('b gave up');
    expect(exchange.signal.aborted).toBe(false);
    s.answerExchange(exchange);
    expect((await Promise.all(sent.slice(1))).map((a) => a.body)).toEqual([{ echo: 'c' }, { echo: 'd' }]);
    // A second exchange whose callers all give up is aborted itself.
    const more = [0, 1, 2].map(() => new AbortController());
    const held = post(s.client, 'e');
    const queued = ['f', 'g'].map((b, i) => post(s.client, b, { signal: more[i]!.signal }));
    s.answerPost(s.posts.at(-1)!);
    await held;
    await turns();
    const second = s.exchanges[1]!;
    more[0]!.abort(new Error('f gave up'));
    more[1]!.abort(new Error('g gave up'));
    await expect(Promise.allSettled(queued)).resolves.toMatchObject([
      { status: 'rejected' },
      { status: 'rejected' },
    ]);
    expect(second.signal.aborted).toBe(true);
  });

  it('fails every part of an exchange with its transport error, as a single post fails', async () => {
    const s = await warmClient(1);
    const first = post(s.client, 'a');
    const parts = ['b', 'c'].map((b) => post(s.client, b));
    s.answerPost(s.posts[0]!);
    await first;
    await turns();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    s.exchanges[0]!.reject(refused);
    for (const p of parts) await expect(p).rejects.toBe(refused);
    // A malformed answer fails them too (NODE_FAILED naming the fault).
    const next = post(s.client, 'd');
    const more = ['e', 'f'].map((b) => post(s.client, b));
    s.answerPost(s.posts.at(-1)!);
    await next;
    await turns();
    s.exchanges[1]!.resolve({ status: 200, acceptsExchange: true, bytes: new Uint8Array([1, 2, 3]) });
    for (const p of more) await expect(p).rejects.toThrow(HexEdgeError);
  });

  it('sends the parts again alone when the node refuses the exchange whole, and stops coalescing to it', async () => {
    const s = await warmClient(1);
    const first = post(s.client, 'a');
    const parts = ['b', 'c'].map((b) => post(s.client, b));
    s.answerPost(s.posts[0]!);
    await first;
    await turns();
    s.exchanges[0]!.resolve({ status: 404, acceptsExchange: false, bytes: new Uint8Array() });
    await turns();
    expect(s.posts.slice(1).map((p) => p.body)).toEqual(['b', 'c']);
    s.posts.slice(1).forEach((p) => s.answerPost(p, false));
    expect((await Promise.all(parts)).map((a) => a.body)).toEqual([{ echo: 'b' }, { echo: 'c' }]);
    // No longer coalescing: concurrent posts go alone.
    s.posts.length = 0;
    void ['d', 'e', 'f'].map((b) => post(s.client, b));
    expect(s.posts.map((p) => p.body)).toEqual(['d', 'e', 'f']);
  });
});
