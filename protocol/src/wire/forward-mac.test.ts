import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../encoding.ts';
import { generateNodeKeyPair, type NodeKeyPair } from '../identity.ts';
import { nodeIdToX25519 } from './forward-mac-curve.ts';
import { nodeForwardMac } from '../node/forward-mac-node.ts';
import { nodeSha256Hex } from '../node/sha256.ts';
import { forwardBody, forwardBodyNow } from './forward-body.ts';
import { useForwardMacEngine } from './forward-mac-engine.ts';
import { FORWARD_MAC_HEADER, ForwardMacKeys, macForward, macForwardNow } from './forward-mac.ts';
import {
  checkForward,
  FORWARD_AT_HEADER,
  FORWARD_SIGNATURE_HEADER,
  FORWARDER_HEADER,
  signForward,
} from './forward-signature.ts';

const NOW = 1_750_000_000_000;
const TARGET = { route: 'infer' as const, modelName: 'comfort-index', modelVersion: '1' };
const BODY = '{"id":"r1","inputs":[{"name":"readings","datatype":"FP32","shape":[1,3],"data":[29,55,900]}]}';
const idOfHex = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
/** Ed25519 encodings of points of small order (y = −1, y = 0, the two of order 8) and the neutral point. */
const SMALL_ORDER_IDS = [
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
].map(idOfHex);
const NEUTRAL_ID = idOfHex('0100000000000000000000000000000000000000000000000000000000000000');

let gateway: NodeKeyPair, node: NodeKeyPair, relay: NodeKeyPair, stranger: NodeKeyPair;
let nodeMacs: ForwardMacKeys, gatewayMacs: ForwardMacKeys;
let known: Set<string>;

beforeAll(async () => {
  [gateway, node, relay, stranger] = await Promise.all([1, 2, 3, 4].map(() => generateNodeKeyPair()));
  nodeMacs = new ForwardMacKeys({ keys: node });
  gatewayMacs = new ForwardMacKeys({ keys: gateway });
  known = new Set([gateway.nodeId]);
});

const check = (headers: Record<string, string>, extra: Partial<Parameters<typeof checkForward>[0]> = {}) =>
  checkForward({
    header: (name) => headers[name],
    targetNodeId: node.nodeId,
    ...TARGET,
    body: BODY,
    isKnown: (id) => known.has(id),
    nowMs: NOW,
    macs: nodeMacs,
    ...extra,
  });

const macFor = (o: { macs?: ForwardMacKeys; targetNodeId?: string; body?: string; nowMs?: number } = {}) =>
  macForward({
    macs: o.macs ?? gatewayMacs,
    targetNodeId: o.targetNodeId ?? node.nodeId,
    ...TARGET,
    body: o.body ?? BODY,
    nowMs: o.nowMs ?? NOW,
  }).then((h) => h!);

const refusal = (pattern: RegExp) => ({ ok: false, reason: expect.stringMatching(pattern) });

describe('ed25519 → x25519 public keys', () => {
  it('maps as libsodium’s crypto_sign_ed25519_pk_to_curve25519 (its test vector)', () => {
    const u = nodeIdToX25519(idOfHex('b5076a8474a832daee4dd5b4040983b6623b5f344aca57d4d6ee4baf3f259e6e'));
    expect(u.ok && bytesToHex(u.u)).toBe('f1814f0e8ff1043d8a44d25babff3cedcae6c22c3edaa48f857ae70de2baae50');
  });

  it('refuses points of small order, the neutral point, a non-canonical y and a y off the curve', () => {
    for (const id of SMALL_ORDER_IDS) expect(nodeIdToX25519(id)).toEqual(refusal(/small order/));
    expect(nodeIdToX25519(NEUTRAL_ID)).toEqual(refusal(/neutral point/));
    // y = p (≡ 0 but not reduced), and y = 2, which has no x on Ed25519.
    expect(nodeIdToX25519(idOfHex('ed' + 'ff'.repeat(30) + '7f'))).toEqual(refusal(/not reduced/));
    expect(nodeIdToX25519(idOfHex('02' + '00'.repeat(31)))).toEqual(refusal(/not a point of Ed25519/));
    expect(nodeIdToX25519('short')).toEqual(refusal(/not a node id/));
  });
});

describe('forward MAC', () => {
  it('lets a known gateway’s MAC for this node through, over this body, within the skew', async () => {
    const headers = await macFor();
    expect(Object.keys(headers).sort()).toEqual(
      [FORWARD_AT_HEADER, FORWARD_MAC_HEADER, FORWARDER_HEADER].sort(),
    );
    expect(headers[FORWARD_MAC_HEADER]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await check(headers)).toEqual({ ok: true, forwarderId: gateway.nodeId });
    expect(await check(headers, { nowMs: NOW + 59_000 })).toMatchObject({ ok: true });
    // A body given as bytes is the same body.
    expect(await check(headers, { body: new TextEncoder().encode(BODY) })).toMatchObject({ ok: true });
  });

  it('refuses a MAC made for another target node (a relay passing the request on)', async () => {
    const forRelay = await macFor({ targetNodeId: relay.nodeId });
    expect(await check(forRelay)).toEqual(refusal(/^the forward MAC does not verify for /));
  });

  it('refuses a MAC made with another forwarder’s key under the gateway’s name (a stranger, the relay, this node’s own reverse key)', async () => {
    for (const keys of [stranger, relay]) {
      // The pair (keys → node) is one these identities are a side of: the best key they can make.
      const own = await macFor({ macs: new ForwardMacKeys({ keys }) });
      expect(await check({ ...own, [FORWARDER_HEADER]: gateway.nodeId })).toEqual(
        refusal(/^the forward MAC does not verify for /),
      );
    }
    // The key of the other direction (node → gateway) is another key.
    const reverse = await macForward({
      macs: nodeMacs,
      targetNodeId: gateway.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    expect(await check({ ...reverse!, [FORWARDER_HEADER]: gateway.nodeId })).toEqual(
      refusal(/^the forward MAC does not verify for /),
    );
  });

  it('refuses a changed body, route, model name, version or issuedAt', async () => {
    const headers = await macFor();
    const bad = refusal(/^the forward MAC does not verify for /);
    expect(await check(headers, { body: BODY.replace('29', '30') })).toEqual(bad);
    expect(await check(headers, { route: 'predict' })).toEqual(bad);
    expect(await check(headers, { modelName: 'vibration' })).toEqual(bad);
    expect(await check(headers, { modelVersion: '2' })).toEqual(bad);
    expect(await check({ ...headers, [FORWARD_AT_HEADER]: String(NOW + 1) })).toEqual(bad);
  });

  it('refuses a replay outside the skew and an unknown forwarder with the signature path’s messages', async () => {
    const headers = await macFor();
    const signed = await signForward({
      keys: gateway,
      targetNodeId: node.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    for (const nowMs of [NOW + 61_000, NOW - 61_000])
      expect(await check(headers, { nowMs })).toEqual(await check(signed, { nowMs }));
    expect(await check(headers, { nowMs: NOW + 61_000 })).toEqual(refusal(/not within 60000 ms of now/));
    const byStranger = await macFor({ macs: new ForwardMacKeys({ keys: stranger }) });
    const strangerSigned = await signForward({
      keys: stranger,
      targetNodeId: node.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    expect(await check(byStranger)).toEqual(await check(strangerSigned));
    expect(await check(byStranger)).toEqual(refusal(/not a gateway or oracle this node knows/));
    expect(await check({ ...headers, [FORWARDER_HEADER]: 'not-an-id' })).toEqual(refusal(/is not a node id/));
  });

  it('refuses a truncated, overlong or non-base64url MAC as malformed', async () => {
    const headers = await macFor();
    const mac = headers[FORWARD_MAC_HEADER]!;
    const malformed = refusal(/is not an HMAC-SHA256 in base64url/);
    for (const bad of [
      mac.slice(0, 42),
      mac + 'A',
      `${mac.slice(0, 42)}=`,
      `${mac.slice(0, 42)}+`,
      mac.slice(0, 41) + '==',
      ' '.repeat(43),
    ])
      expect(await check({ ...headers, [FORWARD_MAC_HEADER]: bad })).toEqual(malformed);
    // One character changed: well-formed, and wrong.
    const flipped = `${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    expect(await check({ ...headers, [FORWARD_MAC_HEADER]: flipped })).toEqual(
      refusal(/^the forward MAC does not verify/),
    );
  });

  it('refuses a forwarder whose key is a point of small order (its shared secret needs no private key)', async () => {
    const headers = await macFor();
    for (const id of [...SMALL_ORDER_IDS, NEUTRAL_ID]) {
      known.add(id);
      try {
        // The MAC an attacker can compute for a small-order key: HMAC under HKDF of the all-zero secret.
        expect(await check({ ...headers, [FORWARDER_HEADER]: id })).toEqual(
          refusal(/^no forward MAC key with /),
        );
      } finally {
        known.delete(id);
      }
    }
  });

  it('refuses this node’s own id as forwarder: unknown as with a signature, and never by MAC even when listed', async () => {
    const self = await macForward({
      macs: nodeMacs,
      targetNodeId: node.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    }).catch((err: Error) => err);
    // A node's keys make no MAC to itself.
    expect(self).toBeUndefined();
    const headers = { ...(await macFor()), [FORWARDER_HEADER]: node.nodeId };
    expect(await check(headers)).toEqual(refusal(/not a gateway or oracle this node knows/));
    expect(await check(headers, { isKnown: () => true })).toEqual(refusal(/is this node itself/));
  });

  it('is not looked at by a node that does not take MACs (an older node): unsigned, as before', async () => {
    const headers = await macFor();
    expect(await check(headers, { macs: undefined })).toEqual(
      refusal(/^the request is not signed by a gateway or oracle$/),
    );
    // Such a node still takes the signature.
    const signed = await signForward({
      keys: gateway,
      targetNodeId: node.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    expect(await check(signed, { macs: undefined })).toMatchObject({ ok: true });
    expect(await check(signed)).toMatchObject({ ok: true });
  });

  it('checks the MAC, not a signature beside it, when both come', async () => {
    const headers = await macFor();
    const signed = await signForward({
      keys: gateway,
      targetNodeId: node.nodeId,
      ...TARGET,
      body: BODY,
      nowMs: NOW,
    });
    expect(await check({ ...signed, [FORWARD_MAC_HEADER]: headers[FORWARD_MAC_HEADER]! })).toMatchObject({
      ok: true,
    });
    const badMac = { ...signed, [FORWARD_MAC_HEADER]: 'A'.repeat(43) };
    expect(await check(badMac)).toEqual(refusal(/^the forward MAC does not verify/));
    expect(await check({ ...headers, [FORWARD_SIGNATURE_HEADER]: 'x' })).toMatchObject({ ok: true });
  });

  it('keeps a bounded number of peer keys, and a key evicted is derived again alike', async () => {
    const macs = new ForwardMacKeys({ keys: node, maxPeers: 2 });
    const headers = await macFor();
    expect(await check(headers, { macs })).toMatchObject({ ok: true });
    for (const keys of [stranger, relay])
      await macs.keyFor({ forwarderId: keys.nodeId, targetNodeId: node.nodeId });
    expect(await check(headers, { macs })).toMatchObject({ ok: true });
  });
});

describe('macForwardNow', () => {
  it('gives macForward’s headers, at once with node:crypto once the pair’s key is derived', async () => {
    const target = { targetNodeId: node.nodeId, ...TARGET, nowMs: NOW };
    const expected = await macFor();
    const previous = useForwardMacEngine(nodeForwardMac);
    try {
      const macs = new ForwardMacKeys({ keys: gateway });
      for (const body of [BODY, new TextEncoder().encode(BODY), '', '{"__proto__":{"x":1},"é":-0}']) {
        const options = { macs, ...target, body, sha256: nodeSha256Hex };
        const reference = await macForward(options);
        expect(await macForwardNow(options)).toEqual(reference);
        expect(macForwardNow(options)).not.toBeInstanceOf(Promise);
        const bodyOptions = {
          ...target,
          forwarderId: gateway.nodeId,
          issuedAtMs: NOW,
          body,
          sha256: nodeSha256Hex,
        };
        expect(forwardBodyNow(bodyOptions)).toEqual(await forwardBody(bodyOptions));
      }
      expect(await macForwardNow({ macs, ...target, body: BODY, sha256: nodeSha256Hex })).toEqual(expected);
      // A target whose id is no usable X25519 key: no MAC either way (the caller signs).
      for (const id of [SMALL_ORDER_IDS[0]!, NEUTRAL_ID]) {
        const options = { macs, ...target, targetNodeId: id, body: BODY };
        expect(await macForward(options)).toBeUndefined();
        expect(await macForwardNow(options)).toBeUndefined();
      }
    } finally {
      useForwardMacEngine(previous);
    }
    // The WebCrypto engine's HMAC is a promise: the same headers through it.
    expect(await macForwardNow({ macs: gatewayMacs, ...target, body: BODY })).toEqual(expected);
  });
});
