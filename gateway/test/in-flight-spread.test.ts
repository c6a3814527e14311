import { generateNodeKeyPair } from '@hexedge/protocol';
import { Placement } from '@hexedge/placement';
import { describe, expect, it } from 'vitest';
import { createGatewayApp, type NodeClient } from '../src/index.ts';
import { body, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

/**
 * Two twin nodes (same place, same model, no samples yet): the gateway's own count of requests it has
 * outstanding at each decides which of them a request goes to, so a burst splits between them instead
 * of going whole to the one that sorts first.
 */
/** How long the burst's calls wait at their node: long enough that scheduling jitter is a small part of it. */
const HOLD_MS = 200;

describe('a burst over twin nodes', () => {
  async function setUp() {
    const placement = new Placement({ heartbeatIntervalMs: 60_000 });
    const twins: FakeNode[] = [
      { keys: await generateNodeKeyPair(), url: 'http://twin-a.test', mode: 'ok' },
      { keys: await generateNodeKeyPair(), url: 'http://twin-b.test', mode: 'ok' },
    ];
    for (const t of twins) await register(placement, t, 52.3, 4.8);
    const honest = fakeNodes(twins);
    // Every call waits at its node until released, so the burst's requests are all outstanding at once.
    const held: { url: string; release: () => void }[] = [];
    let arrived: (() => void) | undefined;
    let want = 0;
    let open = false;
    const gated: NodeClient = {
      async post(options) {
        // Calls past the burst's own (fail-overs) go straight through.
        if (!open)
          await new Promise<void>((release) => {
            held.push({ url: new URL(options.url).origin, release });
            if (held.length === want) arrived?.();
          });
        return honest.post(options);
      },
    };
    const { app } = createGatewayApp({ placement, keys: await keyRing(), nodeClient: gated });
    const burst = async (n: number) => {
      held.length = 0;
      want = n;
      open = false;
      const allThere = new Promise<void>((r) => (arrived = r));
      const answers = Array.from({ length: n }, () =>
        app.request('/v1/infer', {
          method: 'POST',
          body: body(),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        }),
      );
      await allThere;
      const perNode = new Map<string, number>();
      for (const h of held) perNode.set(h.url, (perNode.get(h.url) ?? 0) + 1);
      open = true;
      // Held alike, so both twins' measured service times stay equal (within P2C_MARGIN) round after round.
      await new Promise((r) => setTimeout(r, HOLD_MS));
      for (const h of held) h.release();
      const statuses = await Promise.all(answers.map(async (a) => (await a).status));
      return { perNode, statuses };
    };
    return { twins, burst };
  }

  it('splits evenly, and again on the next burst (every count given back)', async () => {
    const { twins, burst } = await setUp();
    for (let round = 0; round < 3; round++) {
      const { perNode, statuses } = await burst(8);
      expect(statuses).toEqual(Array(8).fill(200));
      expect(perNode).toEqual(new Map(twins.map((t) => [t.url, 4])));
    }
  });
});
