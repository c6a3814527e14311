import { describe, expect, it, vi } from 'vitest';
import { PendingUnassigns } from './directory-cleanup.ts';
import type { DirectoryApi } from './shard-protocol.ts';

function memoryMeta() {
  const values = new Map<string, string>();
  return {
    getMeta: (key: string) => values.get(key),
    setMeta: (key: string, value: string) => void values.set(key, value),
  };
}

function directory(options: { failing: boolean }) {
  const calls: { bucket: string; nodeIds: string[]; cell: string }[] = [];
  const of = (bucket: string): DirectoryApi => ({
    unassign: async (nodeIds, cell) => {
      if (options.failing) throw new Error('directory unreachable');
      calls.push({ bucket, nodeIds, cell });
    },
    lookup: async () => null,
    lookupMany: async (ids) => ids.map(() => null),
    advanceSeq: async () => ({ advanced: true, last: -1 }),
    claimNonce: async () => true,
    assign: async () => {},
    reportShard: async () => {},
    shardMap: async () => [],
  });
  return { of, calls };
}

describe('directory entries of nodes evicted for room', () => {
  it('keeps them across a failed call and a restart, and removes them on the next flush', async () => {
    const meta = memoryMeta();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const pending = new PendingUnassigns(meta);
    pending.add('node-a');
    pending.add('node-b');
    await pending.flush({ cell: 'cell-1', directory: directory({ failing: true }).of });
    expect(log).toHaveBeenCalledWith(expect.stringContaining('directory cleanup failed'));
    log.mockRestore();

    // The shard restarted: the list is read back from its storage.
    const restarted = new PendingUnassigns(meta);
    const working = directory({ failing: false });
    await restarted.flush({ cell: 'cell-1', directory: working.of });
    expect(working.calls.flatMap((c) => c.nodeIds).sort()).toEqual(['node-a', 'node-b']);
    expect(working.calls.every((c) => c.cell === 'cell-1')).toBe(true);

    const again = directory({ failing: false });
    await new PendingUnassigns(meta).flush({ cell: 'cell-1', directory: again.of });
    expect(again.calls).toEqual([]);
  });
});
