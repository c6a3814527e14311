import { generateNodeKeyPair, type NodeKeyPair } from '@hexedge/protocol';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { answered } from './oracle-forwarder.fixtures.ts';
import { ReceiptForwarder } from './oracle-forwarder.ts';

/** Stopping the forwarder: the last reports reach the oracle before the stop resolves, bounded, and what could not be delivered is said. */
let keys: NodeKeyPair;
beforeAll(async () => {
  keys = await generateNodeKeyPair();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A fake oracle that accepts every report and records which request ids reached it. */
function acceptingOracle() {
  const received: string[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    const reports = JSON.parse(init.body as string) as Array<{
      body: { receipt: { body: { requestId: string } } };
    }>;
    received.push(...reports.map((r) => r.body.receipt.body.requestId));
    return new Response(JSON.stringify({ accepted: reports.length }), { status: 202 });
  }) as typeof globalThis.fetch;
  return { received, fetch };
}

/** A fake oracle that takes posts and never answers them (until the post's signal aborts). */
function hangingOracle() {
  let posts = 0;
  let posted!: () => void;
  // Resolves at the first post (signing runs off the fake clock, so the test awaits this, not time).
  const firstPost = new Promise<void>((resolve) => (posted = resolve));
  const fetch = ((_url: string, init: RequestInit) => {
    posts++;
    posted();
    return new Promise<Response>((_, reject) =>
      init.signal!.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
    );
  }) as typeof globalThis.fetch;
  return { fetch, posts: () => posts, firstPost };
}

describe('ReceiptForwarder stop', () => {
  it('run: the answers queued since the last interval flush are posted before run resolves on the signal', async () => {
    const oracle = acceptingOracle();
    const log: string[] = [];
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys,
      fetch: oracle.fetch,
      log: (m) => log.push(m),
    });
    const stop = new AbortController();
    // An hour between flushes: only the stop's flush can post them.
    const running = forwarder.run(stop.signal, { intervalMs: 3_600_000 });
    for (let i = 0; i < 3; i++) forwarder.onAnswered(...answered(i));
    stop.abort();
    await running;
    expect(oracle.received).toEqual(['r0', 'r1', 'r2']);
    expect(forwarder.stats).toMatchObject({ forwarded: 3, dropped: 0 });
    expect(log).toEqual([]);
  });

  it('says how many reports were not delivered when the oracle is gone', async () => {
    const log: string[] = [];
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys,
      batchSize: 2,
      fetch: (async () => Promise.reject(new TypeError('fetch failed'))) as typeof fetch,
      log: (m) => log.push(m),
    });
    for (let i = 0; i < 3; i++) forwarder.onAnswered(...answered(i));
    expect(await forwarder.close()).toEqual({ undelivered: 3 });
    expect(log.at(-1)).toBe(
      'receipt forwarding stopped: 3 report(s) not delivered to http://oracle.test (its posts failed, see above)',
    );
  });

  it('gives up at the deadline: the post in flight is aborted, the rest counted, and the log names how many', async () => {
    vi.useFakeTimers();
    const oracle = hangingOracle();
    const log: string[] = [];
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys,
      batchSize: 2,
      fetch: oracle.fetch,
      log: (m) => log.push(m),
    });
    for (let i = 0; i < 5; i++) forwarder.onAnswered(...answered(i));
    let result: { undelivered: number } | undefined;
    const closing = forwarder.close({ timeoutMs: 2_000 }).then((r) => (result = r));
    await oracle.firstPost;
    await vi.advanceTimersByTimeAsync(1_999);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    // One post was tried (2 reports); the other 3 were given up without a post.
    expect(oracle.posts()).toBe(1);
    expect(result).toEqual({ undelivered: 5 });
    expect(log.at(-1)).toBe(
      'receipt forwarding stopped: 5 report(s) not delivered to http://oracle.test (the oracle did not take them within 2000 ms)',
    );
  });

  it('the deadline starts at the signal: a post in flight then is bounded by it', async () => {
    vi.useFakeTimers();
    const oracle = hangingOracle();
    const forwarder = new ReceiptForwarder({ oracleUrl: 'http://oracle.test', keys, fetch: oracle.fetch });
    const stop = new AbortController();
    const running = forwarder.run(stop.signal, { intervalMs: 1_000, stopTimeoutMs: 3_000 });
    forwarder.onAnswered(...answered(1));
    await vi.advanceTimersByTimeAsync(1_000);
    await oracle.firstPost;
    expect(oracle.posts()).toBe(1);
    stop.abort();
    let done = false;
    void running.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(2_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await running;
    expect(forwarder.stats).toMatchObject({ forwarded: 0, dropped: 1, failedPosts: 1 });
  });

  it('counts and says an answer that comes after the last flush, instead of queueing it for nobody', async () => {
    const oracle = acceptingOracle();
    const log: string[] = [];
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys,
      fetch: oracle.fetch,
      log: (m) => log.push(m),
    });
    forwarder.onAnswered(...answered(1));
    expect(await forwarder.close()).toEqual({ undelivered: 0 });
    forwarder.onAnswered(...answered(2));
    forwarder.onAnswered(...answered(3));
    expect(oracle.received).toEqual(['r1']);
    expect(forwarder.stats).toMatchObject({ forwarded: 1, dropped: 2 });
    expect(log).toEqual([
      'receipt forwarding stopped: a report came after the last flush and is not delivered',
    ]);
  });

  it('says when the oracle refuses reports (they are lost with their rewards), with its first reason', async () => {
    const fetch = (async (_url: string, init: RequestInit) => {
      const reports = JSON.parse(init.body as string) as unknown[];
      const results = reports.map((_, i) =>
        i === 0
          ? { accepted: true, seq: 1 }
          : { accepted: false, code: 'FORBIDDEN', message: `${keys.nodeId} is not a known receipt reporter` },
      );
      return new Response(JSON.stringify({ accepted: 1, results }), { status: 202 });
    }) as typeof globalThis.fetch;
    const log: string[] = [];
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys,
      fetch,
      log: (m) => log.push(m),
    });
    const stop = new AbortController();
    const running = forwarder.run(stop.signal, { intervalMs: 3_600_000 });
    for (let i = 0; i < 3; i++) forwarder.onAnswered(...answered(i));
    stop.abort();
    await running;
    expect(forwarder.stats).toMatchObject({ forwarded: 1, refused: 2 });
    expect(log).toEqual([
      `receipt forwarding: the oracle refused 2 of 3 report(s): FORBIDDEN: ${keys.nodeId} is not a known receipt reporter`,
    ]);
  });
});
