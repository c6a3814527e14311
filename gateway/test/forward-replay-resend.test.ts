import { Placement } from '@hexedge/placement';
import {
  checkForward,
  FORWARD_AT_HEADER,
  ForwardReplayGuard,
  generateNodeKeyPair,
  HexEdgeError,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGatewayApp, type NodeClient } from '../src/index.ts';
import { body, fakeNode, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

/**
 * An edge node refuses a forward it served already (protocol's ForwardReplayGuard). The gateway can send
 * the very same forward twice itself: two callers' requests with one `id` and the same inputs, signed
 * in one batch (one time), are the same bytes to the same node. The node refuses the second as a
 * replay (409 REPLAYED); the gateway forwards it again with a later time and both callers are served.
 * The node's side runs protocol's real check and guard, and answers as infer-handler.ts does.
 */
const SECOND_KEY = 'unit-test-second-key';
let forwardKeys: NodeKeyPair;
let near: FakeNode;
const seen: { atMs: number; status: number }[] = [];
/** Replays the node pretends to have seen: refuses every forward as one (a node racing the gateway's copies). */
let refuseAll = false;

beforeAll(async () => {
  forwardKeys = await generateNodeKeyPair();
  near = await fakeNode('http://near.test');
});
afterEach(() => {
  vi.useRealTimers();
});

async function gateway() {
  const placement = new Placement({ heartbeatIntervalMs: 60_000, assumeLocationsVerified: true });
  await register(placement, near, 52.3, 4.8);
  const inner = fakeNodes([near]);
  const replays = new ForwardReplayGuard();
  const nodeClient: NodeClient = {
    async post(request) {
      const check = await checkForward({
        header: (h) => request.headers?.[h],
        targetNodeId: near.keys.nodeId,
        route: 'infer',
        modelName: 'm',
        modelVersion: '1',
        body: request.body,
        isKnown: (id) => id === forwardKeys.nodeId,
        nowMs: Date.now(),
        replays,
      });
      const atMs = Number(request.headers?.[FORWARD_AT_HEADER]);
      if (refuseAll || !check.ok) {
        const e = refuseAll
          ? new HexEdgeError('REPLAYED', 'request refused: was served already (a replay)')
          : new HexEdgeError(
              check.ok ? 'INTERNAL' : check.replay ? 'REPLAYED' : 'FORBIDDEN',
              'request refused',
            );
        seen.push({ atMs, status: e.httpStatus });
        return { status: e.httpStatus, body: { error: e.message, code: e.code } };
      }
      seen.push({ atMs, status: 200 });
      return inner.post(request);
    },
  };
  const keys = await keyRing();
  await keys.adopt(SECOND_KEY, { name: 'second caller', role: 'admin' });
  return createGatewayApp({ placement, keys, nodeClient, forwardKeys }).app;
}

const post = (app: Awaited<ReturnType<typeof gateway>>, key: string) =>
  app.request('/v1/infer', {
    method: 'POST',
    body: body({ id: 'reading-1' }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
  });

describe('a replay refusal of a forward the gateway really sent', () => {
  it('is forwarded again with a later time: two callers with one request id and the same inputs are both served', async () => {
    // The clock stands still (only Date; before the gateway is built, which keeps `Date.now`): both
    // requests are forwarded in the same millisecond, as two signed in one batch are: the same bytes.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const app = await gateway();
    seen.splice(0);
    const first = await post(app, KEY);
    const second = await post(app, SECOND_KEY);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(seen.map((s) => s.status)).toEqual([200, 409, 200]);
    expect(seen[1]!.atMs).toBe(seen[0]!.atMs);
    expect(seen[2]!.atMs).toBe(seen[1]!.atMs + 1);
    for (const res of [first, second]) expect(((await res.json()) as { id: string }).id).toBe('reading-1');
  });

  it('is passed on, after a bounded number of tries, when the node refuses every copy', async () => {
    const app = await gateway();
    seen.splice(0);
    refuseAll = true;
    try {
      const res = await post(app, KEY);
      expect(res.status).not.toBe(200);
      // The first forward and three resends, each a millisecond later at least.
      expect(seen.map((s) => s.status)).toEqual([409, 409, 409, 409]);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.atMs).toBeGreaterThan(seen[i - 1]!.atMs);
    } finally {
      refuseAll = false;
    }
  });
});
