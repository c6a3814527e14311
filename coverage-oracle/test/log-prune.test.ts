import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportLogFiles, pruneExportedLogHashes, SqliteOracleStore } from '../src/adapters/node.ts';
import { buildLogEntry, findBrokenLogEntry } from '../src/rewards/epoch-log.ts';
import { GENESIS_LOG_ROOT, MemoryOracleStore } from '../src/store/memory-store.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import type { LogEntry } from '../src/store/records.ts';
import { readLogEntry } from './fixtures/log-entries.ts';

/**
 * Hash lists of exported epochs leave the store (pruneExportedLogHashes): at the fabric's rate an epoch
 * lists millions of receipt hashes, and the store kept every one for ever. Only epochs whose exported
 * file exists go, the newest `keepEpochs` stay, the files still re-verify, and an export that would
 * need a pruned list again fails naming the epoch instead of writing it empty.
 */
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hexedge-log-prune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let files = 0;
const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const STEP = 100;
const prune = (store: OracleStore, dir: string, keepEpochs: number) =>
  pruneExportedLogHashes({ store, dir, keepEpochs, stepRows: STEP });

/** `count` chained epochs from 100; the first lists 450 receipts (five prune steps of STEP), the rest a few. */
async function closeEpochs(store: OracleStore, count: number, from = 100, prev = GENESIS_LOG_ROOT) {
  const entries: LogEntry[] = [];
  let prevLogRoot = prev;
  for (let epoch = from; epoch < from + count; epoch++) {
    const receipts = Array.from({ length: epoch === 100 ? 450 : 30 }, (_, i) => hex(`r${epoch}.${i}`));
    const entry = await buildLogEntry({
      epoch,
      startMs: epoch * 1000,
      endMs: (epoch + 1) * 1000,
      prevLogRoot,
      manifestBytes: new TextEncoder().encode(JSON.stringify({ epoch })),
      receiptHashes: receipts,
      verdicts: [],
    });
    store.appendLogEntry(entry);
    entries.push(entry);
    prevLogRoot = entry.logRoot;
  }
  return entries;
}

const readExported = (dir: string, epoch: number) =>
  JSON.parse(
    readFileSync(path.join(dir, `epoch-${String(epoch).padStart(8, '0')}.log.json`), 'utf8'),
  ) as LogEntry;

describe.each([
  ['memory', () => new MemoryOracleStore()],
  ['SQLite', () => new SqliteOracleStore({ path: path.join(tmp, `s${files++}.db`) })],
] as const)('pruning exported hash lists (%s store)', (_name, open) => {
  it('drops the lists of exported epochs but the newest kept, and the files still re-verify', async () => {
    const store = open();
    const dir = path.join(tmp, `export-${files++}`);
    const entries = await closeEpochs(store, 5);
    await exportLogFiles({ store, dir });
    expect(await prune(store, dir, 2)).toEqual([100, 101, 102]);
    for (const epoch of [100, 101, 102])
      expect(() => store.listLogHashes({ epoch, kind: 'receipts', fromIndex: 0, limit: 10 })).toThrow(
        `epoch ${epoch}'s hash lists were pruned from the store after they were exported`,
      );
    expect(readLogEntry(store, 103)).toEqual(entries[3]);
    expect(readLogEntry(store, 104)).toEqual(entries[4]);
    expect(store.getLogHeader(100)?.logRoot).toBe(entries[0]!.logRoot);
    // The files are the record: whole, and the chain re-verifies from them.
    const exported = [100, 101, 102, 103, 104].map((e) => readExported(dir, e));
    expect(exported[0]!.receiptHashes).toHaveLength(450);
    expect(exported).toEqual(entries);
    expect(await findBrokenLogEntry(exported)).toBeNull();
    // Nothing more to do until newer epochs close; exports carry on as before.
    expect(await prune(store, dir, 2)).toEqual([]);
    expect(await exportLogFiles({ store, dir })).toEqual([]);
    const more = await closeEpochs(store, 1, 105, entries[4]!.logRoot);
    expect(await exportLogFiles({ store, dir })).toContain(path.join(dir, 'epoch-00000105.log.json'));
    expect(await prune(store, dir, 2)).toEqual([103]);
    expect(readExported(dir, 105)).toEqual(more[0]);
  });

  it('keeps the lists of epochs not exported yet, and every list with keepEpochs 0', async () => {
    const store = open();
    const dir = path.join(tmp, `export-${files++}`);
    const entries = await closeEpochs(store, 3);
    await exportLogFiles({ store, dir });
    await closeEpochs(store, 2, 103, entries[2]!.logRoot);
    expect(await prune(store, dir, 0)).toEqual([]);
    expect(await prune(store, dir, 1)).toEqual([100, 101, 102]);
    expect(readLogEntry(store, 103)?.receiptHashes).toHaveLength(30);
    expect(existsSync(path.join(dir, 'epoch-00000103.log.json'))).toBe(false);
  });

  it('fails an export that would need a pruned list again, naming the epoch, rather than write it empty', async () => {
    const store = open();
    const dir = path.join(tmp, `export-${files++}`);
    await closeEpochs(store, 4);
    await exportLogFiles({ store, dir });
    await prune(store, dir, 2);
    rmSync(dir, { recursive: true, force: true });
    await expect(exportLogFiles({ store, dir })).rejects.toThrow(
      "epoch 100's hash lists were pruned from the store after they were exported",
    );
    expect(existsSync(path.join(dir, 'epoch-00000100.log.json'))).toBe(false);
  });
});
