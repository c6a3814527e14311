import { generateNodeKeyPair } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { answered } from './oracle-forwarder.fixtures.ts';
import { ReceiptForwarder } from './oracle-forwarder.ts';

describe('ReceiptForwarder on a full queue', () => {
  it('drops what does not fit, says so at the first report lost, and counts them at the next flush', async () => {
    const received: string[] = [];
    const fetch = (async (_url: string, init: RequestInit) => {
      const reports = JSON.parse(init.body as string) as Array<{
        body: { receipt: { body: { requestId: string } } };
      }>;
      received.push(...reports.map((r) => r.body.receipt.body.requestId));
      return new Response(JSON.stringify({ accepted: reports.length }), { status: 202 });
    }) as typeof globalThis.fetch;
    const log: string[] = [];
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys: await generateNodeKeyPair(),
      fetch,
      maxQueued: 3,
      batchSize: 10,
      log: (m) => log.push(m),
    });
    for (let i = 0; i < 5; i++) forwarder.onAnswered(...answered(i));
    expect(forwarder.stats).toMatchObject({ queued: 3, dropped: 2 });
    expect(log).toEqual([
      'receipt forwarding: queue full (3 reports), reports are dropped until the oracle takes some',
    ]);
    await forwarder.flush();
    expect(received).toEqual(['r0', 'r1', 'r2']);
    expect(log.at(-1)).toBe('receipt forwarding: 2 report(s) dropped while the queue was full');
    // Room again: the next answers are queued and delivered, and the first loss of a new overflow is said again.
    for (let i = 5; i < 9; i++) forwarder.onAnswered(...answered(i));
    await forwarder.flush();
    expect(received).toEqual(['r0', 'r1', 'r2', 'r5', 'r6', 'r7']);
    expect(forwarder.stats).toMatchObject({ queued: 6, forwarded: 6, dropped: 3 });
    expect(log.filter((m) => m.includes('queue full'))).toHaveLength(2);
  });
});
