import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateNodeKeyPair, type NodeKeyPair } from '../identity.ts';
import { FORWARD_PROOF_HEADER, forwardRootOf, forwardTree, ForwardRootCache } from './forward-batch.ts';
import { checkForward, FORWARD_SIGNATURE_HEADER, signForwardBatch } from './forward-signature.ts';

const NOW = 1_750_000_000_000;
let gateway: NodeKeyPair, stranger: NodeKeyPair;
const nodes: NodeKeyPair[] = [];

beforeAll(async () => {
  [gateway, stranger] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
  for (let i = 0; i < 3; i++) nodes.push(await generateNodeKeyPair());
});
afterEach(() => vi.restoreAllMocks());

/** Request i of a batch: to node i % 3, with its own body (binary for odd i). */
const request = (i: number) => ({
  targetNodeId: nodes[i % 3]!.nodeId,
  route: 'infer' as const,
  modelName: 'comfort-index',
  modelVersion: '1',
  body: i % 2 ? new Uint8Array([i, 1, 2, 3]) : `{"id":"r${i}"}`,
});

const check = (
  r: ReturnType<typeof request>,
  headers: Record<string, string>,
  extra: Partial<Parameters<typeof checkForward>[0]> = {},
) =>
  checkForward({
    header: (name) => headers[name],
    targetNodeId: r.targetNodeId,
    route: r.route,
    modelName: r.modelName,
    modelVersion: r.modelVersion,
    body: r.body,
    isKnown: (id) => id === gateway.nodeId,
    nowMs: NOW,
    ...extra,
  });

describe('batch-signed forwards', () => {
  it('gives every request of a batch (1 to 9, odd sizes too) headers its own node accepts for its own body', async () => {
    for (const size of [1, 2, 3, 5, 8, 9]) {
      const requests = Array.from({ length: size }, (_, i) => request(i));
      const headers = await signForwardBatch({ keys: gateway, nowMs: NOW, requests });
      expect(headers).toHaveLength(size);
      // A lone request is a plain forward signature: nodes that know no batches accept it as before.
      if (size === 1) expect(headers[0]).not.toHaveProperty(FORWARD_PROOF_HEADER);
      else expect(new Set(headers.map((h) => h[FORWARD_SIGNATURE_HEADER])).size).toBe(1);
      for (const [i, r] of requests.entries())
        expect(await check(r, headers[i]!), `size ${size}, request ${i}`).toMatchObject({ ok: true });
    }
  });

  it("refuses another request's proof, a changed body, route, model or target, a stranger's root, a bent or oversized proof, a stale batch", async () => {
    const requests = Array.from({ length: 6 }, (_, i) => request(i));
    const headers = await signForwardBatch({ keys: gateway, nowMs: NOW, requests });
    const r0 = requests[0]!;
    const h0 = headers[0]!;
    expect(await check(r0, headers[3]!)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not verify/),
    });
    expect(await check({ ...r0, body: '{"id":"r9"}' }, h0)).toMatchObject({ ok: false });
    expect(await check({ ...r0, route: 'predict' as never }, h0)).toMatchObject({ ok: false });
    expect(await check({ ...r0, modelVersion: '2' }, h0)).toMatchObject({ ok: false });
    // Request 3 was for the same node as request 0: its own proof passes, addressed elsewhere it does not.
    expect(await check(requests[3]!, headers[3]!)).toMatchObject({ ok: true });
    expect(await check({ ...requests[3]!, targetNodeId: nodes[1]!.nodeId }, headers[3]!)).toMatchObject({
      ok: false,
    });
    const forged = await signForwardBatch({ keys: stranger, nowMs: NOW, requests });
    expect(await check(r0, { ...forged[0]!, 'x-hexedge-forwarder': gateway.nodeId })).toMatchObject({
      ok: false,
    });
    const proof = h0[FORWARD_PROOF_HEADER]!;
    const bent = proof.replace(/^R([0-9a-f])/, (_m, c: string) => `R${c === '0' ? '1' : '0'}`);
    expect(bent).not.toBe(proof);
    expect(await check(r0, { ...h0, [FORWARD_PROOF_HEADER]: bent })).toMatchObject({ ok: false });
    expect(await check(r0, { ...h0, [FORWARD_PROOF_HEADER]: proof.replace(/^R/, 'L') })).toMatchObject({
      ok: false,
    });
    expect(
      await check(r0, { ...h0, [FORWARD_PROOF_HEADER]: `${proof}.`.repeat(13).slice(0, -1) }),
    ).toMatchObject({ ok: false });
    expect(await check(r0, { ...h0, [FORWARD_PROOF_HEADER]: 'garbage' })).toMatchObject({ ok: false });
    expect(await check(r0, h0, { nowMs: NOW + 61_000 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not within/),
    });
  });

  it("verifies a batch's root signature once per node with a root cache, and only roots that verified enter it", async () => {
    const requests = Array.from({ length: 6 }, (_, i) => request(i * 3)); // all to nodes[0]
    const headers = await signForwardBatch({ keys: gateway, nowMs: NOW, requests });
    const roots = new ForwardRootCache();
    const verify = vi.spyOn(crypto.subtle, 'verify');
    for (const [i, r] of requests.entries())
      expect(await check(r, headers[i]!, { roots })).toMatchObject({ ok: true });
    expect(verify).toHaveBeenCalledTimes(1);
    // A wrong signature over a known root is checked (and refused), never taken from the cache.
    const wrong = {
      ...headers[1]!,
      [FORWARD_SIGNATURE_HEADER]: headers[1]![FORWARD_SIGNATURE_HEADER]!.replace(/^./, (c) =>
        c === 'A' ? 'B' : 'A',
      ),
    };
    expect(await check(requests[1]!, wrong, { roots })).toMatchObject({ ok: false });
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('builds roots whose proofs lead back for every leaf, and refuses empty or oversized batches', async () => {
    const leaves = Array.from({ length: 11 }, (_, i) => i.toString(16).padStart(64, '0'));
    const { root, proofs } = await forwardTree(leaves);
    for (const [i, leaf] of leaves.entries()) expect(await forwardRootOf(leaf, proofs[i]!)).toBe(root);
    expect(await forwardRootOf(leaves[0]!, proofs[1]!)).not.toBe(root);
    await expect(forwardTree([])).rejects.toThrow(RangeError);
    await expect(
      signForwardBatch({
        keys: gateway,
        nowMs: NOW,
        requests: Array.from({ length: 4097 }, (_, i) => request(i)),
      }),
    ).rejects.toThrow(RangeError);
  });
});
