import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { ORACLE_PAGE_SIZE } from '../src/adapters/sqlite-schema.ts';
import type { StoredReport } from '../src/store/records.ts';
import { queryFile } from './fixtures/sqlite-file.ts';

/**
 * A new oracle store is made with 16 KB pages (sqlite-schema.ts, ORACLE_PAGE_SIZE: a quarter of the
 * WAL frames per group commit); a store made before keeps its page size and everything in it.
 */
const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-page-size-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const report = (i: number): Omit<StoredReport, 'seq'> => ({
  type: 'receipt',
  nodeId: 'gw',
  receivedAtMs: T0 + i,
  body: { type: 'receipt', nodeId: 'gw', nonce: `n${i}`, issuedAtMs: T0 + i, pad: 'x'.repeat(3000) },
  signature: 's',
});
const pageSize = (file: string) => Number(queryFile(file, 'PRAGMA page_size')[0]!.page_size);

describe('oracle store page size', () => {
  it('is 16 KB in a new store, which commits and reads back as any other', () => {
    const file = path.join(tmp, 'new.db');
    const store = new SqliteOracleStore({ path: file });
    store.commitIngest({
      reports: [0, 1, 2].map(report),
      nonces: [{ nodeId: 'gw', nonce: 'n0', expiresAtMs: T0 + 60_000 }],
      nowMs: T0,
    });
    expect(store.listReports({ afterSeq: 0, limit: 10 }).map((r) => r.body.nonce)).toEqual([
      'n0',
      'n1',
      'n2',
    ]);
    store.close();
    expect(ORACLE_PAGE_SIZE).toBe(16_384);
    expect(pageSize(file)).toBe(ORACLE_PAGE_SIZE);
  });

  it('stays as it was in a store made before, with its rows', () => {
    const file = path.join(tmp, 'old.db');
    const old = new DatabaseSync(file);
    old.exec('PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;');
    old.exec(
      'CREATE TABLE reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, round_key TEXT, json TEXT NOT NULL) STRICT',
    );
    old.prepare('INSERT INTO reports (round_key, json) VALUES (NULL, ?)').run(JSON.stringify(report(0)));
    old.close();
    const store = new SqliteOracleStore({ path: file });
    store.commitIngest({ reports: [report(1)], nonces: [], nowMs: T0 });
    expect(store.listReports({ afterSeq: 0, limit: 10 }).map((r) => [r.seq, r.body.nonce])).toEqual([
      [1, 'n0'],
      [2, 'n1'],
    ]);
    store.close();
    expect(pageSize(file)).toBe(4096);
  });
});
