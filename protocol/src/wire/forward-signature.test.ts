import { beforeAll, describe, expect, it } from 'vitest';
import { generateNodeKeyPair, type NodeKeyPair } from '../identity.ts';
import {
  checkForward,
  FORWARD_SIGNATURE_HEADER,
  FORWARDER_HEADER,
  signForward,
} from './forward-signature.ts';

const NOW = 1_750_000_000_000;
const TARGET = { route: 'infer' as const, modelName: 'comfort-index', modelVersion: '1' };
const BODY = '{"id":"r1","inputs":[{"name":"readings","datatype":"FP32","shape":[1,3],"data":[29,55,900]}]}';
let gateway: NodeKeyPair, node: NodeKeyPair, relay: NodeKeyPair, stranger: NodeKeyPair;

beforeAll(async () => {
  [gateway, node, relay, stranger] = await Promise.all([1, 2, 3, 4].map(() => generateNodeKeyPair()));
});

const check = (headers: Record<string, string>, extra: Partial<Parameters<typeof checkForward>[0]> = {}) =>
  checkForward({
    header: (name) => headers[name],
    targetNodeId: node.nodeId,
    ...TARGET,
    body: BODY,
    isKnown: (id) => id === gateway.nodeId,
    nowMs: NOW,
    ...extra,
  });

describe('forward signature', () => {
  it('lets a known gateway’s request for this node through, over this body', async () => {
    const headers = await signForward({
      keys: gateway,
      targetNodeId: node.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    expect(await check(headers)).toEqual({ ok: true, forwarderId: gateway.nodeId });
    expect(await check(headers, { nowMs: NOW + 59_000 })).toMatchObject({ ok: true });
  });

  it('refuses a request relayed from another node, a changed body, route or model, a stranger, a stale one and no signature', async () => {
    const forRelay = await signForward({
      keys: gateway,
      targetNodeId: relay.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    expect(await check(forRelay)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not verify/),
    });
    const headers = await signForward({
      keys: gateway,
      targetNodeId: node.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    expect(await check(headers, { body: BODY.replace('29', '30') })).toMatchObject({ ok: false });
    expect(await check(headers, { route: 'predict' })).toMatchObject({ ok: false });
    expect(await check(headers, { modelVersion: '2' })).toMatchObject({ ok: false });
    expect(await check(headers, { nowMs: NOW + 61_000 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not within/),
    });
    const byStranger = await signForward({
      keys: stranger,
      targetNodeId: node.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    expect(await check(byStranger)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a gateway or oracle this node knows/),
    });
    // A stranger's signature under the gateway's name.
    expect(await check({ ...byStranger, [FORWARDER_HEADER]: gateway.nodeId })).toMatchObject({ ok: false });
    expect(await check({})).toMatchObject({ ok: false, reason: expect.stringMatching(/not signed/) });
    const sig = headers[FORWARD_SIGNATURE_HEADER]!;
    expect(
      await check({
        ...headers,
        [FORWARD_SIGNATURE_HEADER]: `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`,
      }),
    ).toMatchObject({ ok: false });
  });
});
