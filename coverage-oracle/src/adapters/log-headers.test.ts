import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { buildLogEntry } from '../rewards/epoch-log.ts';
import { GENESIS_LOG_ROOT, MemoryOracleStore } from '../store/memory-store.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import { logHeaderOf, type LogEntry } from '../store/records.ts';
import { SqliteOracleStore } from './node.ts';
import { readLogEntries } from '../../test/fixtures/log-entries.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const dbPath = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-log-headers-'));
  dirs.push(dir);
  return path.join(dir, 'oracle.db');
};

/** Three chained epochs, each with 5 000 receipt hashes (an epoch's every receipt: the bulk of an entry). */
async function threeEpochs(): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  let prev = GENESIS_LOG_ROOT;
  for (let epoch = 0; epoch < 3; epoch++) {
    const entry = await buildLogEntry({
      epoch,
      startMs: epoch * 1000,
      endMs: (epoch + 1) * 1000,
      prevLogRoot: prev,
      manifestBytes: new TextEncoder().encode(`{"manifest":{"epoch":${epoch},"entries":[]}}`),
      receiptHashes: Array.from({ length: 5_000 }, (_, i) =>
        (epoch * 5_000 + i).toString(16).padStart(64, '0'),
      ),
      verdicts: [],
    });
    entries.push(entry);
    prev = entry.logRoot;
  }
  return entries;
}

describe.each([
  ['memory', () => new MemoryOracleStore()],
  ['sqlite', () => new SqliteOracleStore({ path: dbPath() })],
] as const)('log headers (%s store)', (_name, open: () => OracleStore) => {
  it('serves an epoch’s header without its hash lists, and the last ones oldest first', async () => {
    const store = open();
    const entries = await threeEpochs();
    entries.forEach((e) => store.appendLogEntry(e));
    const header = store.getLogHeader(1)!;
    expect(header).toEqual(logHeaderOf(entries[1]!));
    expect(header).not.toHaveProperty('receiptHashes');
    expect(header).not.toHaveProperty('verdictHashes');
    expect(store.getLogHeader(7)).toBeUndefined();
    expect(store.listRecentLogHeaders(2).map((h) => h.epoch)).toEqual([1, 2]);
    // The full log (exports) keeps every hash; the chain still checks against the last header.
    expect(readLogEntries(store)[2]!.receiptHashes).toHaveLength(5_000);
    expect(() => store.appendLogEntry({ ...entries[2]!, epoch: 3 })).toThrow(/does not chain/);
  });
});

/** A store as written before the hash lists were rows: whole entries in `log`, with or without `log_headers`. */
function writeOldStore(file: string, entries: readonly LogEntry[], options: { headers: boolean }): void {
  new SqliteOracleStore({ path: file }).close();
  const db = new DatabaseSync(file);
  db.exec('CREATE TABLE log (epoch INTEGER PRIMARY KEY, json TEXT NOT NULL) STRICT');
  for (const e of entries) {
    db.prepare('INSERT INTO log (epoch, json) VALUES (?, ?)').run(e.epoch, JSON.stringify(e));
    if (options.headers)
      db.prepare('INSERT INTO log_headers (epoch, json) VALUES (?, ?)').run(
        e.epoch,
        JSON.stringify(logHeaderOf(e)),
      );
  }
  db.close();
}

describe.each([
  ['whole entries only', false],
  ['whole entries and headers', true],
] as const)('a store from before the hash lists were rows (%s)', (_name, headers) => {
  it('is moved once on open: the same headers and lists, the old table gone, the chain going on', async () => {
    const file = dbPath();
    const entries = await threeEpochs();
    writeOldStore(file, entries, { headers });
    const after = new SqliteOracleStore({ path: file });
    expect(after.listRecentLogHeaders(5)).toEqual(entries.map(logHeaderOf));
    expect(readLogEntries(after)).toEqual(entries);
    expect(after.listLogHashes({ epoch: 1, kind: 'receipts', fromIndex: 4_998, limit: 10 })).toEqual(
      entries[1]!.receiptHashes.slice(4_998),
    );
    const next = await buildLogEntry({
      epoch: 3,
      startMs: 3000,
      endMs: 4000,
      prevLogRoot: entries[2]!.logRoot,
      manifestBytes: new TextEncoder().encode('{}'),
      receiptHashes: [],
      verdicts: [],
    });
    after.appendLogEntry(next);
    expect(after.getLogHeader(3)).toEqual(logHeaderOf(next));
    after.close();
    const db = new DatabaseSync(file);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'log'").get()).toBeUndefined();
    db.close();
    // Opening again moves nothing twice.
    const again = new SqliteOracleStore({ path: file });
    expect(readLogEntries(again)).toEqual([...entries, next]);
    again.close();
  });

  it('refuses to open rather than half-move a list holding something that is not hex', async () => {
    const file = dbPath();
    const entries = await threeEpochs();
    writeOldStore(file, [{ ...entries[0]!, receiptHashes: ['zz'.repeat(32)] }], { headers });
    expect(() => new SqliteOracleStore({ path: file })).toThrow(/hash lists into rows failed/);
    const db = new DatabaseSync(file);
    expect(db.prepare('SELECT count(*) AS n FROM log').get()!.n).toBe(1);
    expect(db.prepare('SELECT count(*) AS n FROM log_hashes').get()!.n).toBe(0);
    db.close();
  });
});
