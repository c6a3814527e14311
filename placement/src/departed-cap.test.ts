import { describe, expect, it } from 'vitest';
import { adoptedRecord } from '../test/node-records.ts';
import type { NodeRecord } from './node-record.ts';
import { EVICT_AFTER_SILENT_MS, MAX_DEPARTED_NODES, NodeRegistry } from './node-registry.ts';
import { MemoryNodeStore } from './node-store.ts';

const T0 = 1_800_000_000_000;

function silentRecord(i: number, nowMs: number): NodeRecord {
  return adoptedRecord({
    id: `n${i}`,
    at: { lat: 10 + (i % 50) / 10, lng: 10 + (i % 70) / 10 },
    atMs: nowMs,
    lastHeartbeatAtMs: nowMs - EVICT_AFTER_SILENT_MS - 1,
    hardware: { cpuCores: 1, memoryMb: 512 },
  });
}

describe('departed nodes at the cap', () => {
  it('forgets the longest gone first, in memory and in the store, sweep after sweep', () => {
    let now = T0;
    const store = new MemoryNodeStore();
    const registry = new NodeRegistry({ heartbeatIntervalMs: 10_000, now: () => now, store });
    const swarm = (from: number, count: number) => {
      for (let i = from; i < from + count; i++) registry.adopt(silentRecord(i, now));
      registry.evictSilent();
    };
    swarm(0, MAX_DEPARTED_NODES + 10);
    now += 60_000;
    swarm(MAX_DEPARTED_NODES + 10, 5_000);
    const kept = store.loadDeparted().map((d) => d.nodeId);
    expect(kept.length).toBe(MAX_DEPARTED_NODES);
    const ids = new Set(kept);
    // Exactly the first 5 010 to leave are forgotten.
    expect(ids.has('n5009')).toBe(false);
    expect(ids.has('n5010')).toBe(true);
    expect(ids.has(`n${MAX_DEPARTED_NODES + 5_009}`)).toBe(true);
    expect(registry.size).toBe(0);
  }, 60_000);
});
