import { Placement } from '@hexedge/placement';
import { generateNodeKeyPair } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { createGatewayApp, ReceiptForwarder } from '../src/index.ts';
import { body, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

/*
 * Raw inputs of a region-bound API key stay in its region: the receipt the gateway forwards to the
 * oracle for spot checks carries only the digests the node signed, so nothing can be re-run on a
 * checker in another region. Other keys' answers go with their tensors, as before.
 */
describe('receipt forwarding for region-bound keys', () => {
  it('forwards digests only for a region-bound key, tensors for others', async () => {
    const placement = new Placement({ heartbeatIntervalMs: 60_000, assumeLocationsVerified: true });
    const near: FakeNode = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
    await register(placement, near, 52.37, 4.9); // Amsterdam: NL, eu
    const posted: unknown[] = [];
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys: await generateNodeKeyPair(),
      fetch: (async (_url: string, init: { body: string }) => {
        posted.push(...(JSON.parse(init.body) as unknown[]));
        return new Response(JSON.stringify({ accepted: 1 }), { status: 202 });
      }) as unknown as typeof fetch,
    });
    const keys = await keyRing();
    const eu = await keys.create({ name: 'eu-only', region: 'eu' });
    const { app } = createGatewayApp({
      placement,
      keys,
      nodeClient: fakeNodes([near]),
      onAnswered: forwarder.onAnswered,
    });
    const infer = (key: string) =>
      app.request('/v1/infer', {
        method: 'POST',
        body: body({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [42.5] }] }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      });
    expect((await infer(eu.key)).status).toBe(200);
    expect((await infer(KEY)).status).toBe(200);
    await forwarder.flush();
    expect(posted).toHaveLength(2);
    const [regional, open] = posted as { body: { request: { kind: string }; result: { kind: string } } }[];
    expect(regional!.body.request).toEqual({ kind: 'digests', modelName: 'm', modelVersion: '1' });
    expect(regional!.body.result).toEqual({ kind: 'digests' });
    expect(JSON.stringify(regional)).not.toContain('42.5');
    expect(open!.body.request.kind).toBe('tensors');
  });
});
