import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { MemoryOracleStore } from '../src/store/memory-store.ts';
import type { JudgedBatch } from '../src/store/oracle-store.ts';
import type { Verdict, WorkRecord } from '../src/store/records.ts';

/** The verify stage's one commit per tick: everything it judged and its cursor, together or not at all. */
const NOW = 1_700_000_000_000;
const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-judged-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const verdict = (id: string, nodeId: string): Verdict => ({
  id,
  nodeId,
  kind: 'spot-check',
  status: 'valid',
  atMs: NOW,
  details: {},
});
const work = (hash: string, nodeId: string): WorkRecord => ({
  receiptHash: hash,
  nodeId,
  modelName: 'm',
  modelVersion: '1',
  atMs: NOW,
  sampled: true,
});
const batch = (): JudgedBatch => ({
  work: [work('h1', 'a'), work('h2', 'b')],
  verdicts: [verdict('v1', 'a'), verdict('v2', 'b')],
  coverage: [{ cell: '881fb46625fffff', nodeId: 'a', source: 'uplink', atMs: NOW }],
  cursor: { stage: 'verify', seq: 42 },
});

describe('commitJudged', () => {
  it.each([
    ['memory', () => new MemoryOracleStore()],
    ['SQLite', () => new SqliteOracleStore({ path: path.join(tmp, 'ok.db') })],
  ])('%s: keeps work, verdicts, their evidence, coverage and the cursor of one tick', (_name, open) => {
    const store = open();
    store.commitJudged(batch());
    expect(store.getCursor('verify')).toBe(42);
    expect(store.listWork({ sinceMs: 0, untilMs: NOW + 1 }).map((w) => w.receiptHash)).toEqual(['h1', 'h2']);
    expect(store.listVerdicts({}).map((v) => v.id)).toEqual(['v1', 'v2']);
    expect(
      store
        .listNodeEvidence()
        .map((e) => e.nodeId)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(store.listCoverage({ sinceMs: 0 })).toHaveLength(1);
    // The same tick again (judged again after a crash before its commit): nothing doubles.
    store.commitJudged(batch());
    expect(store.listWork({ sinceMs: 0, untilMs: NOW + 1 })).toHaveLength(2);
    expect(store.workTotals({ sinceMs: 0, untilMs: NOW + 1 }).requests).toBe(2);
    expect(store.listVerdicts({})).toHaveLength(2);
  });

  it('SQLite: a write that fails midway leaves nothing of the tick, on disk or in the evidence held in memory', () => {
    const file = path.join(tmp, 'fail.db');
    const store = new SqliteOracleStore({ path: file });
    store.commitJudged({
      ...batch(),
      work: [],
      verdicts: [verdict('v0', 'a')],
      coverage: [],
      cursor: { stage: 'verify', seq: 7 },
    });
    const evidenceBefore = structuredClone(store.listNodeEvidence());
    // A coverage record JSON cannot hold: the failure comes after the work and verdicts were written.
    const bad = {
      ...batch(),
      coverage: [{ cell: 'c', nodeId: 'a', source: 'uplink', atMs: NOW, signalDbm: 1n }],
    };
    expect(() => store.commitJudged(bad as never)).toThrow(/BigInt/);
    const check = (s: SqliteOracleStore) => {
      expect(s.getCursor('verify')).toBe(7);
      expect(s.listWork({ sinceMs: 0, untilMs: NOW + 1 })).toEqual([]);
      expect(s.workTotals({ sinceMs: 0, untilMs: NOW + 1 }).requests).toBe(0);
      expect(s.listVerdicts({}).map((v) => v.id)).toEqual(['v0']);
      expect(s.listCoverage({ sinceMs: 0 })).toEqual([]);
      expect(s.listNodeEvidence()).toEqual(evidenceBefore);
    };
    check(store);
    store.close();
    const reopened = new SqliteOracleStore({ path: file });
    check(reopened);
    reopened.close();
  });
});
