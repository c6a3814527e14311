import {
  checkForward,
  FORWARD_PROOF_HEADER,
  FORWARD_SIGNATURE_HEADER,
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
});
