import { generateNodeKeyPair, MAX_GATEWAY_KEYS } from '@hexedge/protocol';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { IDENTITY_TIMEOUT_MS, MAX_IDENTITY_BYTES } from './gateway-identity.ts';
import {
  GATEWAY_KEY_GRACE_MS,
  IDENTITY_REFRESH_MIN_MS,
  KnownCallers,
  type CallerRefusal,
} from './known-callers.ts';

/** A gateway whose identity answer the test releases by hand, counting the reads. */
function gatewayWithKey(reporterId: string) {
  let reads = 0;
  let release!: () => void;
  const answered = new Promise<void>((resolve) => (release = resolve));
  const fetch = (async () => {
    reads++;
    await answered;
    return Response.json({ reporterId, algorithm: 'Ed25519', encoding: 'base64url' });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, release, reads: () => reads };
}

/** A gateway whose answer the test swaps at will: a key set, or any Response (garbage, errors). */
function switchableGateway(first: { reporterId: string; reporterIds?: string[] }) {
  let reads = 0;
  let answer: () => Response | Promise<Response> = () =>
    Response.json({ ...first, algorithm: 'Ed25519', encoding: 'base64url raw 32 bytes' });
  const fetch = (async (_url: string, init?: RequestInit) => {
    reads++;
    return answer.call(init);
  }) as unknown as typeof globalThis.fetch;
  return {
    fetch,
    reads: () => reads,
    publish(identity: { reporterId: string; reporterIds?: string[] }) {
      answer = () => Response.json({ ...identity, algorithm: 'Ed25519', encoding: 'base64url raw 32 bytes' });
    },
    answerWith(make: (init: RequestInit | undefined) => Response | Promise<Response>) {
      answer = function (this: RequestInit | undefined) {
        return make(this);
      };
    },
  };
}

let oldKey: string, newKey: string, otherInstance: string, oracle: string;
beforeAll(async () => {
  [oldKey, newKey, otherInstance, oracle] = (
    await Promise.all([1, 2, 3, 4].map(() => generateNodeKeyPair()))
  ).map((k) => k.nodeId);
});
afterEach(() => vi.useRealTimers());

/** Callers on a gateway at `oldKey`, with a hand-moved clock, the log and the refusals kept. */
async function startedCallers(gateway: ReturnType<typeof switchableGateway>) {
  const clock = { nowMs: 1_750_000_000_000 };
  const lines: string[] = [];
  const refusals: CallerRefusal[] = [];
  const callers = new KnownCallers({
    ids: [oracle],
    gatewayUrl: 'http://gw.test',
    fetch: gateway.fetch,
    nowMs: () => clock.nowMs,
    log: (l) => lines.push(l),
    onRefused: (r) => refusals.push(r),
  });
  await callers.refresh();
  return { callers, clock, lines, refusals };
}

describe('KnownCallers', () => {
  it('requests from a new gateway key that arrive while its identity is being read all wait for that read', async () => {
    const gateway = gatewayWithKey(newKey);
    let nowMs = 0;
    const callers = new KnownCallers({
      ids: [],
      gatewayUrl: 'http://gw.test',
      fetch: gateway.fetch,
      nowMs: () => nowMs,
    });
    const first = callers.isKnown(newKey);
    nowMs = 5; // within IDENTITY_REFRESH_MIN_MS of the read's start
    const during = [callers.isKnown(newKey), callers.isKnown(newKey)];
    gateway.release();
    expect(await Promise.all([first, ...during])).toEqual([true, true, true]);
    expect(gateway.reads()).toBe(1);
  });

  it('made-up forwarders cause one read per IDENTITY_REFRESH_MIN_MS, not one each (also in a burst)', async () => {
    const gateway = gatewayWithKey(oldKey);
    gateway.release();
    let nowMs = 0;
    const refusals: CallerRefusal[] = [];
    const callers = new KnownCallers({
      ids: [],
      gatewayUrl: 'http://gw.test',
      fetch: gateway.fetch,
      nowMs: () => nowMs,
      onRefused: (r) => refusals.push(r),
    });
    for (let i = 0; i < 50; i++) expect(await callers.isKnown(`forged-${i}`)).toBe(false);
    expect(gateway.reads()).toBe(1);
    const burst = await Promise.all(Array.from({ length: 500 }, (_, i) => callers.isKnown(`burst-${i}`)));
    expect(burst.every((known) => !known)).toBe(true);
    expect(gateway.reads()).toBe(1);
    nowMs = IDENTITY_REFRESH_MIN_MS;
    expect(await callers.isKnown('forged-again')).toBe(false);
    expect(gateway.reads()).toBe(2);
    expect(await callers.isKnown(oldKey)).toBe(true);
    expect(refusals).toEqual(Array(551).fill('unknown-forwarder'));
  });

  it('a rotated key: the new one at once, the old one within the grace, refused after it as a retired key', async () => {
    const gateway = switchableGateway({ reporterId: oldKey });
    const { callers, clock, lines, refusals } = await startedCallers(gateway);
    expect(lines).toEqual([`serving requests forwarded by gateway ${oldKey}`]);
    expect(await callers.isKnown(oldKey)).toBe(true);

    gateway.publish({ reporterId: newKey });
    clock.nowMs += IDENTITY_REFRESH_MIN_MS;
    const rotatedAtMs = clock.nowMs;
    expect(await callers.isKnown(newKey)).toBe(true); // the new key's first request learns it
    const untilIso = new Date(rotatedAtMs + GATEWAY_KEY_GRACE_MS).toISOString();
    expect(lines.at(-1)).toBe(
      `gateway key ${oldKey} replaced by ${newKey}; ${oldKey} accepted until ${untilIso}`,
    );

    clock.nowMs = rotatedAtMs + GATEWAY_KEY_GRACE_MS - 1; // a forward signed before the rotation, still in flight
    expect(await callers.isKnown(oldKey)).toBe(true);
    expect(callers.ids).toEqual(new Set([oracle, newKey, oldKey]));
    clock.nowMs = rotatedAtMs + GATEWAY_KEY_GRACE_MS;
    expect(await callers.isKnown(oldKey)).toBe(false);
    expect(await callers.isKnown(oldKey)).toBe(false);
    expect(callers.ids).toEqual(new Set([oracle, newKey]));
    expect(refusals).toEqual(['retired-gateway-key', 'retired-gateway-key']);
    // The gateway was asked again (the old key is unknown now) and still does not list it.
    expect(gateway.reads()).toBe(3);
    expect(await callers.isKnown(newKey)).toBe(true);
    expect(await callers.isKnown(oracle)).toBe(true); // configured: trusted whatever the gateway says
  });

  it('a key listed again (a rollback) is trusted again, with no grace running out on it', async () => {
    const gateway = switchableGateway({ reporterId: oldKey });
    const { callers, clock } = await startedCallers(gateway);
    gateway.publish({ reporterId: newKey });
    await callers.refresh();
    gateway.publish({ reporterId: oldKey });
    await callers.refresh();
    expect(callers.ids).toEqual(new Set([oracle, oldKey, newKey])); // newKey now within its grace
    clock.nowMs += GATEWAY_KEY_GRACE_MS;
    expect(callers.ids).toEqual(new Set([oracle, oldKey]));
    clock.nowMs += 10 * GATEWAY_KEY_GRACE_MS;
    expect(await callers.isKnown(oldKey)).toBe(true);
    expect(await callers.isKnown(newKey)).toBe(false);
  });

  it('several instances behind one URL (reporterIds): all trusted, whichever instance answers', async () => {
    const gateway = switchableGateway({ reporterId: oldKey, reporterIds: [oldKey, otherInstance] });
    const { callers, clock, lines } = await startedCallers(gateway);
    gateway.publish({ reporterId: otherInstance, reporterIds: [otherInstance, oldKey] });
    await callers.refresh();
    clock.nowMs += 10 * GATEWAY_KEY_GRACE_MS;
    expect(await callers.isKnown(oldKey)).toBe(true);
    expect(await callers.isKnown(otherInstance)).toBe(true);
    expect(lines).toEqual([`serving requests forwarded by gateway ${oldKey}, ${otherInstance}`]);
    // One instance rotates its key: only that one is replaced.
    gateway.publish({ reporterId: otherInstance, reporterIds: [otherInstance, newKey] });
    await callers.refresh();
    expect(lines.at(-1)).toMatch(new RegExp(`^gateway key ${oldKey} replaced by ${newKey}; `));
    clock.nowMs += GATEWAY_KEY_GRACE_MS;
    expect(await callers.isKnown(otherInstance)).toBe(true);
    expect(await callers.isKnown(newKey)).toBe(true);
    expect(await callers.isKnown(oldKey)).toBe(false);
  });

  it('a gateway that is down keeps its keys (and the grace of a replaced one), logged once per run of failures', async () => {
    const gateway = switchableGateway({ reporterId: oldKey });
    const { callers, clock, lines } = await startedCallers(gateway);
    gateway.publish({ reporterId: newKey });
    await callers.refresh();
    const rotationLines = lines.length;
    gateway.answerWith(() => {
      throw new TypeError('fetch failed');
    });
    for (let i = 0; i < 5; i++) await callers.refresh();
    gateway.answerWith(() => new Response('busy', { status: 503 }));
    for (let i = 0; i < 5; i++) await callers.refresh();
    expect(lines.slice(rotationLines)).toEqual([
      `cannot read the identity of gateway http://gw.test: fetch failed; keeping its keys (${newKey}) until a read succeeds`,
    ]);
    expect(await callers.isKnown(newKey)).toBe(true);
    clock.nowMs += GATEWAY_KEY_GRACE_MS; // a failed read does not extend the replaced key's grace
    expect(await callers.isKnown(oldKey)).toBe(false);
    expect(await callers.isKnown(newKey)).toBe(true);

    gateway.publish({ reporterId: newKey });
    await callers.refresh();
    expect(lines.at(-1)).toBe('read the identity of gateway http://gw.test again after 11 failed read(s)');
    gateway.answerWith(() => new Response('busy', { status: 502 }));
    await callers.refresh();
    await callers.refresh();
    expect(lines.at(-1)).toMatch(/^cannot read the identity of gateway http:\/\/gw\.test: HTTP 502; /);
    expect(lines.filter((l) => l.startsWith('cannot read'))).toHaveLength(2);
  });

  it.each([
    ['not JSON', () => new Response('<html>hello</html>'), /the identity answer is not JSON/],
    [
      'a reporterId that is no key',
      () => Response.json({ reporterId: 'gateway-1', algorithm: 'Ed25519', encoding: 'x' }),
      /refused: reporterId: /,
    ],
    [
      'another algorithm',
      () => Response.json({ reporterId: 'A'.repeat(43), algorithm: 'RSA', encoding: 'x' }),
      /refused: algorithm: /,
    ],
    [
      `more than ${MAX_GATEWAY_KEYS} keys`,
      () =>
        Response.json({
          reporterId: 'A'.repeat(43),
          reporterIds: Array.from({ length: MAX_GATEWAY_KEYS + 1 }, (_, i) => `${'B'.repeat(40)}${100 + i}`),
          algorithm: 'Ed25519',
          encoding: 'x',
        }),
      /refused: reporterIds: /,
    ],
    [
      'an answer larger than MAX_IDENTITY_BYTES (streamed, no content-length)',
      () => new Response(endlessStream()),
      new RegExp(`the identity answer exceeds ${MAX_IDENTITY_BYTES} bytes`),
    ],
  ])('a garbage identity answer (%s) is refused and changes nothing', async (_, answer, why) => {
    const gateway = switchableGateway({ reporterId: oldKey });
    const { callers, lines } = await startedCallers(gateway);
    gateway.answerWith(answer);
    await callers.refresh();
    expect(lines.at(-1)).toMatch(why);
    expect(lines.at(-1)).toMatch(new RegExp(`keeping its keys \\(${oldKey}\\)`));
    expect(callers.ids).toEqual(new Set([oracle, oldKey]));
  });

  it('a gateway that drips its answer is cut off after IDENTITY_TIMEOUT_MS, keeping the keys', async () => {
    vi.useFakeTimers();
    const gateway = switchableGateway({ reporterId: oldKey });
    const { callers, lines } = await startedCallers(gateway);
    let aborted = false;
    gateway.answerWith((init) => {
      init?.signal?.addEventListener('abort', () => (aborted = true));
      // Headers at once, then a body that never ends (and ignores the abort).
      return new Response(new ReadableStream({ pull: () => new Promise(() => {}) }));
    });
    let done = false;
    const reading = callers.refresh().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(IDENTITY_TIMEOUT_MS - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await reading;
    expect(aborted).toBe(true);
    expect(lines.at(-1)).toMatch(
      new RegExp(`: no complete answer within ${IDENTITY_TIMEOUT_MS} ms; keeping`),
    );
    expect(await callers.isKnown(oldKey)).toBe(true);
  });

  it('watch: re-reads every interval with no request at all, so an old key is dropped anyway; stops on abort', async () => {
    vi.useFakeTimers({ now: 1_750_000_000_000 });
    const gateway = switchableGateway({ reporterId: oldKey });
    const lines: string[] = [];
    const callers = new KnownCallers({
      ids: [],
      gatewayUrl: 'http://gw.test',
      fetch: gateway.fetch,
      log: (l) => lines.push(l),
    });
    await callers.refresh();
    const stop = new AbortController();
    const intervalMs = 30_000;
    // random 0.5: the middle of the ±20 % spread, exactly the interval.
    callers.watch({ intervalMs, signal: stop.signal, random: () => 0.5 });
    gateway.publish({ reporterId: newKey });
    await vi.advanceTimersByTimeAsync(intervalMs - 1);
    expect(gateway.reads()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(gateway.reads()).toBe(2);
    expect(lines.at(-1)).toMatch(new RegExp(`^gateway key ${oldKey} replaced by ${newKey}; `));
    await vi.advanceTimersByTimeAsync(GATEWAY_KEY_GRACE_MS);
    expect(callers.ids).toEqual(new Set([newKey]));
    expect(gateway.reads()).toBe(2 + Math.floor(GATEWAY_KEY_GRACE_MS / intervalMs));
    stop.abort();
    const readsAtStop = gateway.reads();
    await vi.advanceTimersByTimeAsync(10 * intervalMs);
    expect(gateway.reads()).toBe(readsAtStop);
  });

  it('watch: spreads its reads ±20 % around the interval, so a fleet started together does not read in step', async () => {
    vi.useFakeTimers({ now: 1_750_000_000_000 });
    const intervalMs = 10_000;
    const readsAfter = async (random: number, elapsedMs: number) => {
      const gateway = switchableGateway({ reporterId: oldKey });
      const callers = new KnownCallers({
        ids: [],
        gatewayUrl: 'http://gw.test',
        fetch: gateway.fetch,
        log: () => {},
      });
      const stop = new AbortController();
      callers.watch({ intervalMs, signal: stop.signal, random: () => random });
      await vi.advanceTimersByTimeAsync(elapsedMs);
      stop.abort();
      return gateway.reads();
    };
    expect(await readsAfter(0, 0.8 * intervalMs - 1)).toBe(0);
    expect(await readsAfter(0, 0.8 * intervalMs)).toBe(1);
    expect(await readsAfter(1, 1.2 * intervalMs - 1)).toBe(0);
    expect(await readsAfter(1, 1.2 * intervalMs)).toBe(1);
  });
});

/** A body that never ends, 1 KiB a chunk. */
function endlessStream(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024).fill(0x20);
  return new ReadableStream({ pull: (c) => c.enqueue(chunk) });
}
