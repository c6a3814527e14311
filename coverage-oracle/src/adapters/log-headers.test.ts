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
    expect(store.listLogEntries()[2]!.receiptHashes).toHaveLength(5_000);
    expect(() => store.appendLogEntry({ ...entries[2]!, epoch: 3 })).toThrow(/does not chain/);
  });
});

describe('log headers of a store written before they were kept apart', () => {
  it('are made once from the full entries when the store opens', async () => {
    const file = dbPath();
    const entries = await threeEpochs();
    const before = new SqliteOracleStore({ path: file });
    entries.forEach((e) => before.appendLogEntry(e));
    before.close();
    // The older store: full entries only.
    const db = new DatabaseSync(file);
    db.exec('DELETE FROM log_headers');
    db.close();
    const after = new SqliteOracleStore({ path: file });
    expect(after.listRecentLogHeaders(5)).toEqual(entries.map(logHeaderOf));
    // And the chain goes on from them.
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
  });
});
