import { generateNodeKeyPair } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { IDENTITY_REFRESH_MIN_MS, KnownCallers } from './known-callers.ts';

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

describe('KnownCallers', () => {
  it('requests from a new gateway key that arrive while its identity is being read all wait for that read', async () => {
    const { nodeId: newKey } = await generateNodeKeyPair();
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

  it('made-up forwarders cause one read per IDENTITY_REFRESH_MIN_MS, not one each', async () => {
    const { nodeId: realKey } = await generateNodeKeyPair();
    const gateway = gatewayWithKey(realKey);
    gateway.release();
    let nowMs = 0;
    const callers = new KnownCallers({
      ids: [],
      gatewayUrl: 'http://gw.test',
      fetch: gateway.fetch,
      nowMs: () => nowMs,
    });
    for (let i = 0; i < 50; i++) expect(await callers.isKnown(`forged-${i}`)).toBe(false);
    expect(gateway.reads()).toBe(1);
    nowMs = IDENTITY_REFRESH_MIN_MS;
    expect(await callers.isKnown('forged-again')).toBe(false);
    expect(gateway.reads()).toBe(2);
    expect(await callers.isKnown(realKey)).toBe(true);
  });
});
