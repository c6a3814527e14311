// The Worker caps nodes on probation (no oracle score yet) per placement shard and shares a full shard
// between client sources (IPv4 address or IPv6 /48, from CF-Connecting-IP) by placement's ProbationCap
// rule, as the Node gateway does for its one registry: a flood of free identities from one source is
// refused once it holds the biggest share, while a newcomer from elsewhere displaces its oldest.
import { generateNodeKeyPair, signBody, type NodeKeyPair } from '@hexedge/protocol';
import { shardCellOf } from '@hexedge/placement/shards';
import type { Miniflare } from 'miniflare';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker, gatewayReplyOf, startWorker } from './worker-harness.ts';

const MODEL = { name: 'm', version: '1', contentId: 'c'.repeat(64), ready: true };
const CAP = 3;
const PARIS = { lat: 48.85, lng: 2.35 };
const BERLIN = { lat: 52.52, lng: 13.4 };
const MADRID = { lat: 40.42, lng: -3.7 };
const ROME = { lat: 41.9, lng: 12.5 };

describe('probation cap per shard, shared fairly between sources, on the Worker (workerd)', () => {
  let bundle: ReturnType<typeof bundleWorker>;
  let mf: Miniflare;

  const get = async <T>(pathAndQuery: string): Promise<T> => {
    const res = (await mf.dispatchFetch(`http://gw${pathAndQuery}`)) as unknown as Response;
    return (await res.json()) as T;
  };
  const shardIds = async (at: { lat: number; lng: number }) =>
    (await get<{ ids: string[] }>(`/__test/stats?cell=${shardCellOf(at)}`)).ids;
  const directoryCell = async (node: NodeKeyPair) =>
    (await get<{ cell: string | null }>(`/__test/directory?id=${node.nodeId}`)).cell;

  const post = async (options: { route: 'register' | 'heartbeat'; from: string; body: unknown }) => {
    const res = (await mf.dispatchFetch(`http://gw/v1/nodes/${options.route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': options.from },
      body: JSON.stringify(options.body),
    })) as unknown as Response;
    return gatewayReplyOf(res);
  };
  let clockMs = Date.now();
  /** A signed registration of `node` at `at`, sent from client address `from`. */
  const register = async (node: NodeKeyPair, options: { from: string; at: { lat: number; lng: number } }) =>
    post({
      route: 'register',
      from: options.from,
      body: await signBody(
        'registration',
        {
          nodeId: node.nodeId,
          // Strictly increasing: a node's later registration (a move) is never a replay of its first.
          issuedAtMs: ++clockMs,
          url: `http://${node.nodeId.slice(0, 12).toLowerCase()}.probation.test`,
          location: options.at,
          hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu' as const] },
          models: [MODEL],
        },
        node.privateKey,
      ),
    });
  const heartbeat = async (node: NodeKeyPair, seq: number) =>
    post({
      route: 'heartbeat',
      from: '192.0.2.200',
      body: await signBody(
        'heartbeat',
        { nodeId: node.nodeId, seq, issuedAtMs: Date.now(), models: [MODEL] },
        node.privateKey,
      ),
    });
  const keys = (count: number) => Promise.all(Array.from({ length: count }, () => generateNodeKeyPair()));

  beforeAll(() => {
    bundle = bundleWorker(path.resolve(import.meta.dirname, 'worker-test-entry.ts'));
    mf = startWorker({
      scriptPath: bundle.scriptPath,
      bindings: { MAX_PROBATION_NODES_PER_SHARD: String(CAP) },
    });
  }, 120_000);

  afterAll(async () => {
    await mf?.dispose();
    bundle?.cleanup();
  });

  it('uses four distinct shards', () => {
    expect(new Set([PARIS, BERLIN, MADRID, ROME].map((at) => shardCellOf(at))).size).toBe(4);
  });

  it('refuses a flooding source past the cap (503, Retry-After), evicting nobody; a newcomer from elsewhere displaces its oldest', async () => {
    const flood = await keys(CAP + 1);
    for (const node of flood.slice(0, CAP))
      expect((await register(node, { from: '203.0.113.7', at: PARIS })).status).toBe(200);
    const refused = await register(flood[CAP]!, { from: '203.0.113.7', at: PARIS });
    expect(refused).toMatchObject({ status: 503, code: 'OVERLOADED' });
    // Named as the Worker's setting, the one its operator would change.
    expect(refused.message).toContain(`MAX_PROBATION_NODES_PER_SHARD ${CAP}`);
    expect(refused.message).toContain(flood[CAP]!.nodeId);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await shardIds(PARIS)).toEqual(
      flood
        .slice(0, CAP)
        .map((n) => n.nodeId)
        .sort(),
    );
    expect(await directoryCell(flood[CAP]!)).toBeNull();

    const [newcomer] = await keys(1);
    expect((await register(newcomer!, { from: '198.51.100.20', at: PARIS })).status).toBe(200);
    expect(await shardIds(PARIS)).toEqual([...flood.slice(1, CAP), newcomer!].map((n) => n.nodeId).sort());
    // The evicted node is gone everywhere: no directory entry, its heartbeat is an unknown node's.
    expect(await directoryCell(flood[0]!)).toBeNull();
    expect(await heartbeat(flood[0]!, 1)).toMatchObject({ status: 404, code: 'UNKNOWN_NODE' });
    expect((await heartbeat(flood[1]!, 1)).status).toBe(200);
  });

  it('counts an IPv6 /48 as one source: a second /64 of it is refused once the shares are level', async () => {
    const [first, second] = await keys(2);
    // Paris now holds 2 of 203.0.113.7's and 1 of 198.51.100.20's: the /48 newcomer takes the flooder's oldest.
    expect((await register(first!, { from: '2001:db8:c:1::1', at: PARIS })).status).toBe(200);
    const refused = await register(second!, { from: '2001:db8:c:2::1', at: PARIS });
    expect(refused).toMatchObject({ status: 503, code: 'OVERLOADED' });
    expect(await shardIds(PARIS)).toHaveLength(CAP);
    expect(await shardIds(PARIS)).toContain(first!.nodeId);
    expect(await shardIds(PARIS)).not.toContain(second!.nodeId);
  });

  it('never evicts nor counts a node with standing', async () => {
    const [standing, ...flood] = await keys(CAP + 1);
    expect((await register(standing!, { from: '203.0.113.8', at: BERLIN })).status).toBe(200);
    await get(`/__test/trust?cell=${shardCellOf(BERLIN)}&id=${standing!.nodeId}&score=0.9`);
    for (const node of flood)
      expect((await register(node, { from: '203.0.113.8', at: BERLIN })).status).toBe(200);
    expect(await shardIds(BERLIN)).toHaveLength(CAP + 1);
    const [late, newcomer] = await keys(2);
    expect((await register(late!, { from: '203.0.113.8', at: BERLIN })).code).toBe('OVERLOADED');
    expect((await register(newcomer!, { from: '198.51.100.30', at: BERLIN })).status).toBe(200);
    // The oldest of the source was the one with standing: its oldest node on probation went instead.
    const ids = await shardIds(BERLIN);
    expect(ids).toContain(standing!.nodeId);
    expect(ids).not.toContain(flood[0]!.nodeId);
    expect(ids).toContain(newcomer!.nodeId);
    expect(await directoryCell(standing!)).toBe(shardCellOf(BERLIN));
  });

  it('applies the same rule to a move into a full shard; a refused move leaves the node where it was', async () => {
    const flood = await keys(CAP);
    for (const node of flood)
      expect((await register(node, { from: '203.0.113.9', at: MADRID })).status).toBe(200);
    const [mover, outsider] = await keys(2);
    expect((await register(mover!, { from: '203.0.113.9', at: ROME })).status).toBe(200);
    expect((await register(outsider!, { from: '198.51.100.40', at: ROME })).status).toBe(200);

    // The flooder's own node may not move into the shard its source fills.
    expect(await register(mover!, { from: '203.0.113.9', at: MADRID })).toMatchObject({
      status: 503,
      code: 'OVERLOADED',
    });
    expect(await shardIds(MADRID)).toEqual(flood.map((n) => n.nodeId).sort());
    expect(await shardIds(ROME)).toContain(mover!.nodeId);
    expect(await directoryCell(mover!)).toBe(shardCellOf(ROME));
    expect((await heartbeat(mover!, 1)).status).toBe(200);

    // Another source's node moves in and takes the flooder's oldest slot there.
    expect((await register(outsider!, { from: '198.51.100.40', at: MADRID })).status).toBe(200);
    expect(await shardIds(MADRID)).toEqual([...flood.slice(1), outsider!].map((n) => n.nodeId).sort());
    expect(await shardIds(ROME)).not.toContain(outsider!.nodeId);
    expect(await directoryCell(outsider!)).toBe(shardCellOf(MADRID));
    expect(await directoryCell(flood[0]!)).toBeNull();
  });
});
