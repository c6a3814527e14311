import { generateNodeKeyPair, REPORTER_NOT_KNOWN, type NodeKeyPair } from '@hexedge/protocol';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { answered } from './oracle-forwarder.fixtures.ts';
import { ReceiptForwarder } from './oracle-forwarder.ts';
import { NotKnownBackoff, readReportsAnswer } from './oracle-retry.ts';

let keys: NodeKeyPair;
beforeAll(async () => {
  keys = await generateNodeKeyPair();
});
beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

const notKnown = () => ({
  accepted: false,
  code: 'UNKNOWN_NODE',
  message: `${keys.nodeId} is not a known receipt reporter`,
  reason: REPORTER_NOT_KNOWN,
});
const ok = (seq: number) => ({ accepted: true, seq, type: 'receipt' });

type Verdict = (requestId: string, post: number) => Record<string, unknown>;

/** A fake oracle answering each report with `verdict`; records every post's request ids. */
function oracle(verdict: Verdict) {
  const posts: string[][] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    const reports = JSON.parse(init.body as string) as Array<{
      body: { receipt: { body: { requestId: string } } };
    }>;
    const ids = reports.map((r) => r.body.receipt.body.requestId);
    posts.push(ids);
    const results = ids.map((id) => verdict(id, posts.length));
    const accepted = results.filter((r) => r.accepted === true).length;
    return new Response(JSON.stringify({ accepted, results }), { status: 202 });
  }) as typeof globalThis.fetch;
  return { posts, fetch, accepted: () => posts.flat() };
}

function forwarder(
  fetch: typeof globalThis.fetch,
  extra: { maxQueued?: number; giveUpMs?: number; initialMs?: number } = {},
) {
  const log: string[] = [];
  const f = new ReceiptForwarder({
    oracleUrl: 'http://oracle.test',
    keys,
    fetch,
    log: (m) => log.push(m),
    ...(extra.maxQueued ? { maxQueued: extra.maxQueued } : {}),
    notKnownRetry: {
      initialMs: extra.initialMs ?? 2_000,
      maxMs: 30_000,
      giveUpMs: extra.giveUpMs ?? 300_000,
    },
  });
  return { f, log };
}

describe('readReportsAnswer (the retry decision)', () => {
  it('holds REPORTER_NOT_KNOWN refusals, counts the others as final', () => {
    const other = { accepted: false, code: 'BAD_SIGNATURE', message: 'receipt report: bad' };
    expect(readReportsAnswer({ accepted: 1, results: [ok(1), other, notKnown()] }, 3)).toEqual({
      accepted: 1,
      refused: 1,
      held: [2],
      firstRefusal: { code: 'BAD_SIGNATURE', message: 'receipt report: bad' },
    });
  });

  it('an UNKNOWN_NODE without the reason (an older oracle) is final', () => {
    const { reason: _, ...bare } = notKnown();
    expect(readReportsAnswer({ accepted: 0, results: [bare] }, 1)).toMatchObject({ refused: 1, held: [] });
  });

  it('an answer that is not the schema, or not one result per report, holds nothing back', () => {
    expect(readReportsAnswer({ accepted: 0, results: [notKnown()] }, 2)).toMatchObject({
      accepted: 0,
      refused: 2,
      held: [],
    });
    expect(readReportsAnswer({ accepted: 2 }, 2)).toEqual({ accepted: 2, refused: 0, held: [] });
    expect(readReportsAnswer('junk', 2)).toEqual({ accepted: 2, refused: 0, held: [] });
  });
});

describe('NotKnownBackoff', () => {
  it('waits initialMs, doubling per answer in a row up to maxMs, and starts over after a reset', () => {
    const b = new NotKnownBackoff({ initialMs: 2_000, maxMs: 30_000, nowMs: () => Date.now() });
    expect(b.waitMs).toBe(0);
    expect([1, 2, 3, 4, 5, 6].map(() => b.hold())).toEqual([2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    vi.advanceTimersByTime(29_000);
    expect(b.waitMs).toBe(1_000);
    b.reset();
    expect(b.waitMs).toBe(0);
    expect(b.hold()).toBe(2_000);
  });
});

describe('ReceiptForwarder and a reporter the oracle does not know yet', () => {
  it('keeps the reports, posts nothing until the backoff is due, and delivers them once the oracle knows the key', async () => {
    const o = oracle((_, post) => (post <= 2 ? notKnown() : ok(1)));
    const { f, log } = forwarder(o.fetch);
    for (let i = 0; i < 3; i++) f.onAnswered(...answered(i));
    await f.flush();
    expect(f.queueLength).toBe(3);
    await f.flush();
    vi.advanceTimersByTime(1_999);
    await f.flush();
    expect(o.posts).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await f.flush(); // the second post: still not known, the wait doubles
    vi.advanceTimersByTime(3_999);
    await f.flush();
    expect(o.posts).toHaveLength(2);
    vi.advanceTimersByTime(1);
    await f.flush();
    expect(o.posts).toEqual([
      ['r0', 'r1', 'r2'],
      ['r0', 'r1', 'r2'],
      ['r0', 'r1', 'r2'],
    ]);
    expect(f.queueLength).toBe(0);
    expect(f.stats).toMatchObject({ forwarded: 3, refused: 0, dropped: 0, held: 6 });
    expect(log).toEqual([
      `receipt forwarding: the oracle does not know report key ${keys.nodeId} yet: 3 report(s) kept, sent again in 2000 ms, waits doubling, given up after 300000 ms: UNKNOWN_NODE: ${keys.nodeId} is not a known receipt reporter`,
      `receipt forwarding: the oracle takes this gateway's reports again`,
    ]);
  });

  it('a refusal of the report itself stays final: only the not-known one is sent again', async () => {
    const o = oracle((id, post) =>
      post > 1 || id === 'r0'
        ? ok(1)
        : id === 'r1'
          ? { accepted: false, code: 'REPLAYED', message: 'nonce x was already used' }
          : notKnown(),
    );
    const { f, log } = forwarder(o.fetch);
    for (let i = 0; i < 3; i++) f.onAnswered(...answered(i));
    await f.flush();
    vi.advanceTimersByTime(2_000);
    await f.flush();
    expect(o.posts).toEqual([['r0', 'r1', 'r2'], ['r2']]);
    expect(f.stats).toMatchObject({ forwarded: 2, refused: 1, held: 1 });
    expect(log[0]).toBe(
      'receipt forwarding: the oracle refused 1 of 3 report(s): REPLAYED: nonce x was already used',
    );
  });

  it('gives reports up after giveUpMs of "not known", counted as refused and said', async () => {
    const o = oracle(() => notKnown());
    const { f, log } = forwarder(o.fetch, { giveUpMs: 5_000 });
    for (let i = 0; i < 2; i++) f.onAnswered(...answered(i));
    await f.flush(); // t=0: held
    vi.advanceTimersByTime(2_000);
    await f.flush(); // t=2 s: held, next in 4 s
    vi.advanceTimersByTime(4_000);
    await f.flush(); // t=6 s: past 5 s, given up
    expect(o.posts).toHaveLength(3);
    expect(f.queueLength).toBe(0);
    expect(f.stats).toMatchObject({ forwarded: 0, refused: 2, held: 4 });
    expect(log.at(-1)).toBe(
      `receipt forwarding: gave up 2 report(s) after 5000 ms: the oracle does not know report key ${keys.nodeId} (UNKNOWN_NODE: ${keys.nodeId} is not a known receipt reporter)`,
    );
  });

  it('held reports stay within the queue bound: they go first, the newest are dropped (counted)', async () => {
    let answer!: () => void;
    const answered$ = new Promise<void>((resolve) => (answer = resolve));
    const o = oracle((_, post) => (post === 1 ? notKnown() : ok(1)));
    const slow = (async (url: string, init: RequestInit) => {
      const res = await o.fetch(url, init);
      if (o.posts.length === 1) await answered$;
      return res;
    }) as typeof globalThis.fetch;
    const { f } = forwarder(slow, { maxQueued: 4 });
    for (let i = 0; i < 3; i++) f.onAnswered(...answered(i));
    const first = f.flush();
    await vi.waitFor(() => expect(o.posts).toHaveLength(1));
    // While the first post is in flight, the queue fills up again.
    for (let i = 3; i < 7; i++) f.onAnswered(...answered(i));
    answer();
    await first;
    expect(f.queueLength).toBe(4);
    expect(f.stats.dropped).toBe(3);
    vi.advanceTimersByTime(2_000);
    await f.flush();
    expect(o.posts[1]).toEqual(['r0', 'r1', 'r2', 'r3']);
  });

  it('a stop waits for the retry within its deadline and delivers the held reports', async () => {
    const o = oracle((_, post) => (post === 1 ? notKnown() : ok(1)));
    const { f, log } = forwarder(o.fetch);
    for (let i = 0; i < 2; i++) f.onAnswered(...answered(i));
    await f.flush();
    const closing = f.close({ timeoutMs: 15_000 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await closing).toEqual({ undelivered: 0 });
    expect(o.accepted()).toEqual(['r0', 'r1', 'r0', 'r1']);
    expect(f.stats).toMatchObject({ forwarded: 2, dropped: 0 });
    expect(log.filter((l) => /not delivered/.test(l))).toEqual([]);
  });

  it('a stop gives up held reports at its deadline and says how many', async () => {
    const o = oracle(() => notKnown());
    const { f, log } = forwarder(o.fetch, { initialMs: 10_000 });
    for (let i = 0; i < 2; i++) f.onAnswered(...answered(i));
    await f.flush(); // t=0: held, next at 10 s
    const closing = f.close({ timeoutMs: 15_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    // The retry at 10 s (signed off the fake clock): held again, next at 30 s, past the deadline.
    await vi.waitFor(() => expect(f.stats.held).toBe(4));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await closing).toEqual({ undelivered: 2 });
    // Waited for each retry, never a tight loop; what was left given up at the deadline.
    expect(o.posts).toHaveLength(2);
    expect(log.at(-1)).toBe(
      'receipt forwarding stopped: 2 report(s) not delivered to http://oracle.test (the oracle did not take them within 15000 ms)',
    );
  });
});
