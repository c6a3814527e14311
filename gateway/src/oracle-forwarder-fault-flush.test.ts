import { generateNodeKeyPair } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { answered } from './oracle-forwarder.fixtures.ts';
import { ReceiptForwarder } from './oracle-forwarder.ts';

describe('ReceiptForwarder flushing folded node faults', () => {
  it('posts each folded fault once when queueing them fills a batch (no nested flush re-reads the fold)', async () => {
    const posted: string[] = [];
    const fetch = (async (_url: string, init: RequestInit) => {
      const reports = JSON.parse(init.body as string) as Array<{
        body: { type: string; targetNodeId?: string; receipt?: { body: { requestId: string } } };
      }>;
      for (const r of reports)
        posted.push(
          r.body.type === 'node-fault' ? `fault ${r.body.targetNodeId}` : r.body.receipt!.body.requestId,
        );
      return new Response(JSON.stringify({ accepted: reports.length }), { status: 202 });
    }) as typeof globalThis.fetch;
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys: await generateNodeKeyPair(),
      fetch,
      maxQueued: 20,
      batchSize: 2,
    });
    forwarder.onAnswered(...answered(0));
    for (const nodeId of ['a', 'b', 'c'])
      forwarder.onNodeFault({
        nodeId,
        kind: 'unreachable',
        model: 'm',
        requestId: `q-${nodeId}`,
        atMs: Date.now(),
      });
    await forwarder.flush();
    // Once more for anything a nested flush left queued behind the first.
    await forwarder.flush();
    expect(posted.sort()).toEqual(['fault a', 'fault b', 'fault c', 'r0']);
    expect(forwarder.stats).toMatchObject({ faults: 3, dropped: 0, forwarded: 4 });
  });
});
