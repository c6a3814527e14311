import { Placement } from '@hexedge/placement';
import {
  checkForward,
  FORWARD_MAC_HEADER,
  FORWARD_SIGNATURE_HEADER,
  ForwardMacKeys,
  generateNodeKeyPair,
  HexEdgeError,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApp, type NodeClient } from '../src/index.ts';
import { body, fakeNode, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

/**
 * Which authenticator the gateway forwards with: a signature to a node not heard from (or one that does
 * not say it takes MACs), a MAC once the node's answer said it takes them, and a signature again, at
 * once, when an older node is back in its place (it refuses the MAC as an unsigned request: the gateway
 * sends that request again signed and signs from then on). The node's side runs protocol's real check.
 */
let forwardKeys: NodeKeyPair;
let near: FakeNode;
let takesMacs = true;
/** The MAC arrives changed (a tampered path): a node that takes MACs refuses it as it is. */
let corruptMac = false;
const seen: { auth: 'mac' | 'signature' | 'none'; status: number }[] = [];

beforeAll(async () => {
  forwardKeys = await generateNodeKeyPair();
  near = await fakeNode('http://near.test');
});

async function gateway() {
  const placement = new Placement({ heartbeatIntervalMs: 60_000, assumeLocationsVerified: true });
  await register(placement, near, 52.3, 4.8);
  const inner = fakeNodes([near]);
  const macs = new ForwardMacKeys({ keys: near.keys });
  const nodeClient: NodeClient = {
    async post(request) {
      const headers = { ...request.headers };
      if (corruptMac && headers[FORWARD_MAC_HEADER]) headers[FORWARD_MAC_HEADER] = 'A'.repeat(43);
      const check = await checkForward({
        header: (h) => headers[h],
        targetNodeId: near.keys.nodeId,
        route: 'infer',
        modelName: 'm',
        modelVersion: '1',
        body: request.body,
        isKnown: (id) => id === forwardKeys.nodeId,
        nowMs: Date.now(),
        ...(takesMacs ? { macs } : {}),
      });
      const auth = headers[FORWARD_MAC_HEADER]
        ? 'mac'
        : headers[FORWARD_SIGNATURE_HEADER]
          ? 'signature'
          : 'none';
      if (!check.ok) {
        // What an edge node answers (infer-handler.ts's refusal through errorAnswer).
        const e = new HexEdgeError('FORBIDDEN', `request refused: ${check.reason}`);
        seen.push({ auth, status: e.httpStatus });
        return { status: e.httpStatus, body: { error: e.message, code: e.code } };
      }
      seen.push({ auth, status: 200 });
      const answer = await inner.post(request);
      return takesMacs ? { ...answer, acceptsForwardMac: true } : answer;
    },
  };
  return createGatewayApp({ placement, keys: await keyRing(), nodeClient, forwardKeys }).app;
}

describe('forward MAC or signature, by what the node said', () => {
  it('signs first, MACs once told, and falls back to a signature for an older node without failing a request', async () => {
    const app = await gateway();
    const post = () =>
      app.request('/v1/infer', {
        method: 'POST',
        body: body(),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    expect(seen.splice(0)).toEqual([
      { auth: 'signature', status: 200 },
      { auth: 'mac', status: 200 },
      { auth: 'mac', status: 200 },
    ]);
    // An older node back at the same id and address: it looks at no MAC.
    takesMacs = false;
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    expect(seen.splice(0)).toEqual([
      { auth: 'mac', status: 403 },
      { auth: 'signature', status: 200 },
      { auth: 'signature', status: 200 },
    ]);
    // And back to MACs once a newer node says so again.
    takesMacs = true;
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    expect(seen.splice(0)).toEqual([
      { auth: 'signature', status: 200 },
      { auth: 'mac', status: 200 },
    ]);
  });

  it('passes a new node’s refusal of a bad MAC on as the refusal it is (no second try)', async () => {
    takesMacs = true;
    const app = await gateway();
    const post = () =>
      app.request('/v1/infer', {
        method: 'POST',
        body: body(),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      });
    expect((await post()).status).toBe(200);
    seen.splice(0);
    corruptMac = true;
    try {
      const res = await post();
      expect(res.status).not.toBe(200);
      expect(seen).toEqual([{ auth: 'mac', status: 403 }]);
    } finally {
      corruptMac = false;
    }
  });
});
