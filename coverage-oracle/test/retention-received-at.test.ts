import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import type { StoredReport } from '../src/store/records.ts';
import { queryFile } from './fixtures/sqlite-file.ts';

/**
 * Retention reads a report's age from its received_at_ms column, written beside its JSON; a store
 * from before the column gets it empty on its old rows, whose age is still read from their JSON.
 */
const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-received-at-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const report = (i: number): Omit<StoredReport, 'seq'> => ({
  type: 'receipt',
  nodeId: 'gw',
  receivedAtMs: T0 + i * 1000,
  body: { type: 'receipt', nodeId: 'gw', nonce: `n${i}`, issuedAtMs: T0 + i * 1000 },
  signature: 's',
});
const seqs = (store: SqliteOracleStore) => store.listReports({ afterSeq: 0, limit: 100 }).map((r) => r.seq);
const prune = (store: SqliteOracleStore, beforeMs: number) =>
  store.prune({ reports: { beforeMs, maxSeq: 100 }, work: { beforeMs: 0 }, limit: 100 }).reports;

describe('reports.received_at_ms', () => {
  it('is written with each report and is what retention compares', () => {
    const file = path.join(tmp, 'new.db');
    const store = new SqliteOracleStore({ path: file });
    store.appendReports([report(0), report(1)]);
    store.commitIngest({ reports: [report(2), report(3)], nonces: [], nowMs: T0 });
    expect(
      queryFile(file, 'SELECT received_at_ms FROM reports ORDER BY seq').map((r) => r.received_at_ms),
    ).toEqual([0, 1, 2, 3].map((i) => T0 + i * 1000));
    expect(prune(store, T0 + 2_000)).toBe(2);
    expect(seqs(store)).toEqual([3, 4]);
    store.close();
  });

  it('a store from before the column: old rows are aged by their JSON, new ones by the column', () => {
    const file = path.join(tmp, 'old.db');
    const old = new DatabaseSync(file);
    old.exec(
      'CREATE TABLE reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, round_key TEXT, json TEXT NOT NULL) STRICT',
    );
    const insert = old.prepare('INSERT INTO reports (round_key, json) VALUES (NULL, ?)');
    for (const i of [0, 1, 2]) insert.run(JSON.stringify(report(i)));
    old.close();
    const store = new SqliteOracleStore({ path: file });
    store.appendReports([report(3), report(4)]);
    expect(seqs(store)).toEqual([1, 2, 3, 4, 5]);
    // Old rows 1–2 (T0, T0 + 1 s) are before T0 + 1.5 s; then old row 3 and new row 4 before T0 + 3.5 s, not new row 5.
    expect(prune(store, T0 + 1_500)).toBe(2);
    expect(seqs(store)).toEqual([3, 4, 5]);
    expect(prune(store, T0 + 3_500)).toBe(2);
    expect(seqs(store)).toEqual([5]);
    store.close();
    // Reopening finds the column there and adds nothing.
    new SqliteOracleStore({ path: file }).close();
  });
});
