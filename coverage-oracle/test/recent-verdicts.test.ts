import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { MemoryOracleStore } from '../src/store/memory-store.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import type { Verdict } from '../src/store/records.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-recent-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each<[string, () => OracleStore]>([
  ['memory', () => new MemoryOracleStore()],
  ['SQLite', () => new SqliteOracleStore({ path: path.join(tmp, 'recent.db') })],
])('%s store: a node report reads only its newest verdicts', (_name, makeStore) => {
  it('answers the newest since a time, newest first then by id, at most the limit', () => {
    const store = makeStore();
    try {
      // 1000 of the node's (pairs at the same time, so ties are ordered by id) and another node's.
      const verdicts: Verdict[] = [];
      for (let i = 0; i < 1000; i++)
        for (const nodeId of ['n', 'other'])
          verdicts.push({
            id: `${nodeId}:${String(999 - i).padStart(4, '0')}`,
            nodeId,
            kind: 'availability',
            status: 'up',
            atMs: Math.floor(i / 2) * 1000,
          });
      store.saveVerdicts(verdicts);
      const expected = (sinceMs: number, limit: number) =>
        store
          .listVerdicts({ nodeId: 'n', sinceMs })
          .sort((a, b) => b.atMs - a.atMs || (a.id < b.id ? -1 : 1))
          .slice(0, limit)
          .map((v) => v.id);
      const got = (sinceMs: number, limit: number) =>
        store.listRecentVerdicts({ nodeId: 'n', sinceMs, limit }).map((v) => v.id);
      expect(got(0, 200)).toEqual(expected(0, 200));
      expect(got(0, 200).slice(0, 3)).toEqual(['n:0000', 'n:0001', 'n:0002']);
      expect(got(450_000, 200)).toEqual(expected(450_000, 200));
      expect(got(450_000, 200)).toHaveLength(100);
    } finally {
      if (store instanceof SqliteOracleStore) store.close();
    }
  });
});
