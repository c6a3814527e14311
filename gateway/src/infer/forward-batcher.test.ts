import {
  checkForward,
  FORWARD_AT_HEADER,
  FORWARD_MAC_HEADER,
  FORWARD_PROOF_HEADER,
  FORWARD_SIGNATURE_HEADER,
  ForwardMacKeys,
  ForwardRootCache,
  generateNodeKeyPair,
} from '@hexedge/protocol';
import { describe, expect, it, vi } from 'vitest';
import { ForwardBatcher } from './forward-batcher.ts';

const request = (i: number, targetNodeId: string) => ({
  targetNodeId,
  route: 'infer' as const,
  modelName: 'm',
  modelVersion: '1',
  body: new Uint8Array([i]),
});

describe('ForwardBatcher', () => {
  it('signs the requests of one turn with one signature, each with a proof its node accepts; a lone request plainly', async () => {
    const [gateway, node] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
    const turns: (() => void)[] = [];
    const batcher = new ForwardBatcher({ keys: gateway, now: () => 1_000, defer: (fn) => turns.push(fn) });
    const pending = Array.from({ length: 5 }, (_, i) => batcher.sign(request(i, node.nodeId)));
    expect(turns).toHaveLength(1);
    turns.shift()!();
    const headers = await Promise.all(pending);
    expect(new Set(headers.map((h) => h[FORWARD_SIGNATURE_HEADER])).size).toBe(1);
    const roots = new ForwardRootCache();
    const verify = vi.spyOn(crypto.subtle, 'verify');
    for (const [i, h] of headers.entries()) {
      const check = await checkForward({
        header: (name) => h[name],
        ...request(i, node.nodeId),
        isKnown: (id) => id === gateway.nodeId,
        nowMs: 1_000,
        roots,
      });
      expect(check).toEqual({ ok: true, forwarderId: gateway.nodeId });
    }
    expect(verify).toHaveBeenCalledTimes(1);
    verify.mockRestore();

    const lone = batcher.sign(request(9, node.nodeId));
    expect(turns).toHaveLength(1);
    turns.shift()!();
    const h = await lone;
    expect(h).not.toHaveProperty(FORWARD_PROOF_HEADER);
    expect(
      await checkForward({
        header: (name) => h[name],
        ...request(9, node.nodeId),
        isKnown: () => true,
        nowMs: 1_000,
      }),
    ).toMatchObject({ ok: true });
  });

  it('MACs for a node whose answer said it takes them, until an answer says otherwise; asks for a signed resend only after a MAC', async () => {
    const [gateway, node, other] = await Promise.all([1, 2, 3].map(() => generateNodeKeyPair()));
    const turns: (() => void)[] = [];
    const batcher = new ForwardBatcher({ keys: gateway, now: () => 1_000, defer: (fn) => turns.push(fn) });
    const signNow = async (r: Parameters<ForwardBatcher['sign']>[0]) => {
      const pending = batcher.sign(r);
      await Promise.resolve();
      turns.splice(0).forEach((fn) => fn());
      return pending;
    };
    const ok = { status: 200, body: {} };
    const refused = {
      status: 403,
      body: { error: 'request refused: the request is not signed by a gateway or oracle', code: 'FORBIDDEN' },
    };
    expect(await signNow(request(1, node.nodeId))).toHaveProperty(FORWARD_SIGNATURE_HEADER);
    expect(batcher.answered(node.nodeId, { ...ok, acceptsForwardMac: true }, undefined)).toBeUndefined();
    const mac = await batcher.sign(request(2, node.nodeId));
    expect(mac).toHaveProperty(FORWARD_MAC_HEADER);
    expect(mac).not.toHaveProperty(FORWARD_SIGNATURE_HEADER);
    expect(
      await checkForward({
        header: (name) => mac[name],
        ...request(2, node.nodeId),
        isKnown: (id) => id === gateway.nodeId,
        nowMs: 1_000,
        macs: new ForwardMacKeys({ keys: node }),
      }),
    ).toEqual({ ok: true, forwarderId: gateway.nodeId });
    // Another node, not heard from, and a resend asked for with a signature: signed.
    expect(await signNow(request(3, other.nodeId))).toHaveProperty(FORWARD_SIGNATURE_HEADER);
    expect(await signNow({ ...request(4, node.nodeId), signatureOnly: true })).toHaveProperty(
      FORWARD_SIGNATURE_HEADER,
    );
    // A refusal of a signed request is no reason to resend; of a MAC'd one it is, and the node is forgotten.
    expect(batcher.answered(node.nodeId, refused, { [FORWARD_SIGNATURE_HEADER]: 'x' })).toBeUndefined();
    expect(batcher.answered(node.nodeId, refused, mac)).toEqual({ signatureOnly: true });
    expect(await signNow(request(5, node.nodeId))).toHaveProperty(FORWARD_SIGNATURE_HEADER);
    // An answer served without the header forgets too.
    batcher.answered(node.nodeId, { ...ok, acceptsForwardMac: true }, undefined);
    batcher.answered(node.nodeId, ok, undefined);
    expect(await signNow(request(6, node.nodeId))).toHaveProperty(FORWARD_SIGNATURE_HEADER);
  });

  it('asks for a resend with a later time after a replay refusal, and signs or MACs it at that time at least', async () => {
    const [gateway, node] = await Promise.all([1, 2].map(() => generateNodeKeyPair()));
    const turns: (() => void)[] = [];
    const batcher = new ForwardBatcher({ keys: gateway, now: () => 1_000, defer: (fn) => turns.push(fn) });
    const signNow = async (r: Parameters<ForwardBatcher['sign']>[0]) => {
      const pending = batcher.sign(r);
      await Promise.resolve();
      turns.splice(0).forEach((fn) => fn());
      return pending;
    };
    const sent = await signNow(request(1, node.nodeId));
    const replayed = { status: 409, body: { error: 'request refused: … (a replay)', code: 'REPLAYED' } };
    const stale = { status: 409, body: { error: 'request refused: … older …', code: 'STALE_MESSAGE' } };
    expect(batcher.answered(node.nodeId, replayed, sent)).toEqual({ notBeforeMs: 1_001 });
    expect(batcher.answered(node.nodeId, stale, sent)).toEqual({ notBeforeMs: 1_001 });
    // Another 409 (a clash of state), or a replay refusal of nothing this gateway sent, stands.
    expect(batcher.answered(node.nodeId, { status: 409, body: { code: 'CONFLICT' } }, sent)).toBeUndefined();
    expect(batcher.answered(node.nodeId, replayed, undefined)).toBeUndefined();
    // Signed in a batch at the later time (the whole batch: one time per signature)…
    const again = await signNow({ ...request(1, node.nodeId), notBeforeMs: 1_001 });
    expect(again[FORWARD_AT_HEADER]).toBe('1001');
    // …or MAC'd at it, once the node said it takes MACs.
    batcher.answered(node.nodeId, { status: 200, body: {}, acceptsForwardMac: true }, again);
    const mac = await batcher.sign({ ...request(1, node.nodeId), notBeforeMs: 1_002 });
    expect(mac).toHaveProperty(FORWARD_MAC_HEADER);
    expect(mac[FORWARD_AT_HEADER]).toBe('1002');
  });
});
