import { describe, expect, it } from 'vitest';
import { drawCheckers, networkPrefixOf, type CheckerCandidate } from './checker-draw.ts';

const SEED = 'c2VjcmV0LWVwb2NoLXNlZWQtMzItYnl0ZXMtbG9uZyEh';
const hash = (i: number) => i.toString(16).padStart(64, '0');
const candidate = (id: string, operatorId: string, url: string, stake = 100n): CheckerCandidate => ({
  nodeId: id,
  operatorId,
  url,
  stakeBaseUnits: stake,
});

describe('networkPrefixOf', () => {
  it('groups IPv4 by /24 and IPv6 by /48; a host name is itself', () => {
    expect(networkPrefixOf('http://198.51.100.7:8080')).toBe(networkPrefixOf('http://198.51.100.200'));
    expect(networkPrefixOf('http://198.51.100.7')).not.toBe(networkPrefixOf('http://198.51.101.7'));
    expect(networkPrefixOf('http://[2001:db8:1::5]:8080')).toBe(
      networkPrefixOf('http://[2001:db8:1:ffff::1]'),
    );
    expect(networkPrefixOf('http://[2001:db8:1::5]')).not.toBe(networkPrefixOf('http://[2001:db8:2::5]'));
    expect(networkPrefixOf('https://Node.Example.net/x')).toBe('node.example.net');
  });
});

describe('drawCheckers', () => {
  const checked = { nodeId: 'node', operatorId: 'op-n', url: 'http://192.0.2.1' };

  it('draws at most one checker per operator and per network prefix, never the checked node’s', async () => {
    const candidates = [
      candidate('a1', 'A', 'http://198.51.100.1'),
      candidate('a2', 'A', 'http://203.0.113.1'),
      candidate('b1', 'B', 'http://198.51.100.2'),
      candidate('n2', 'op-n', 'http://203.0.113.50'),
      candidate('c1', 'C', 'http://192.0.2.77'),
      candidate('d1', 'D', 'http://10.1.1.1'),
    ];
    for (let i = 0; i < 50; i++) {
      const drawn = await drawCheckers({ seed: SEED, receiptHash: hash(i), candidates, checked, count: 5 });
      const ids = drawn.map((c) => c.nodeId);
      expect(new Set(drawn.map((c) => c.operatorId)).size).toBe(drawn.length);
      expect(new Set(drawn.map((c) => networkPrefixOf(c.url))).size).toBe(drawn.length);
      expect(ids).not.toContain('n2');
      expect(ids).not.toContain('c1');
      expect(ids).toContain('d1');
    }
  });

  it('weights by stake, and depends on the epoch seed, not only on the receipt', async () => {
    const candidates = [
      candidate('rich', 'R', 'http://10.0.1.1', 900n),
      candidate('poor', 'P', 'http://10.0.2.1', 100n),
    ];
    let rich = 0;
    for (let i = 0; i < 1000; i++)
      if (
        (await drawCheckers({ seed: SEED, receiptHash: hash(i), candidates, checked, count: 1 }))[0]!
          .nodeId === 'rich'
      )
        rich++;
    expect(rich).toBeGreaterThan(860);
    expect(rich).toBeLessThan(940);
    const many = Array.from({ length: 20 }, (_, i) => candidate(`c${i}`, `op${i}`, `http://10.0.${i}.1`));
    const order = async (seed: string) =>
      (await drawCheckers({ seed, receiptHash: hash(7), candidates: many, checked, count: 3 }))
        .map((c) => c.nodeId)
        .join();
    expect(await order(SEED)).toBe(await order(SEED));
    expect(await order(SEED)).not.toBe(await order('b3RoZXItZXBvY2gtc2VlZC0zMi1ieXRlcy1sb25nISE'));
    // No stake, no draw.
    expect(
      await drawCheckers({
        seed: SEED,
        receiptHash: hash(1),
        candidates: [candidate('free', 'F', 'http://10.9.9.9', 0n)],
        checked,
        count: 1,
      }),
    ).toEqual([]);
  });
});
