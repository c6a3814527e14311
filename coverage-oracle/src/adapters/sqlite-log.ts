import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { HexEdgeError } from '@hexedge/protocol';
import { assertAppendsAt, assertCounts, assertLogHashes, prunedError } from '../store/memory-log.ts';
import { assertChainsFrom } from '../store/memory-store.ts';
import { logHeaderOf, type LogEntry, type LogHashKind, type LogHeader } from '../store/records.ts';

const KIND_CODE: Record<LogHashKind, number> = { receipts: 0, verdicts: 1 };
const toBlob = (hex: string) => Buffer.from(hex, 'hex');
const toHex = (blob: Uint8Array) =>
  Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('hex');

/**
 * The SQLite store's provenance log: one header row per closed epoch (`log_headers`, the entry without
 * its hash lists) and the hash lists as rows (`log_hashes`: epoch, kind, index, 32-byte hash; WITHOUT
 * ROWID, so an epoch's list is one contiguous key range read page by page). At 1 700 answers a second
 * an epoch lists ~6 M receipts: kept as one JSON row (the `log` table before) that was ~400 MB parsed
 * whole by every export; as rows it is ~40 bytes a hash and no read ever holds more than a page.
 */
export class SqliteProvenanceLog {
  readonly #q: Record<string, StatementSync>;
  readonly #transaction: <T>(write: () => T) => T;

  constructor(db: DatabaseSync, transaction: <T>(write: () => T) => T) {
    this.#transaction = transaction;
    db.exec(`
      CREATE TABLE IF NOT EXISTS log_headers (epoch INTEGER PRIMARY KEY, json TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS log_hashes (epoch INTEGER NOT NULL, kind INTEGER NOT NULL, idx INTEGER NOT NULL,
        hash BLOB NOT NULL, PRIMARY KEY (epoch, kind, idx)) STRICT, WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS log_pruned (epoch INTEGER PRIMARY KEY) STRICT;
    `);
    migrateWholeEntries(db);
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      lastHeader: p('SELECT json FROM log_headers ORDER BY epoch DESC LIMIT 1'),
      hasHeader: p('SELECT 1 FROM log_headers WHERE epoch = ?'),
      insertHeader: p('INSERT INTO log_headers (epoch, json) VALUES (?, ?)'),
      getHeader: p('SELECT json FROM log_headers WHERE epoch = ?'),
      headersFrom: p('SELECT json FROM log_headers WHERE epoch >= ? ORDER BY epoch LIMIT ?'),
      recentHeaders: p(
        'SELECT json FROM (SELECT epoch, json FROM log_headers ORDER BY epoch DESC LIMIT ?) ORDER BY epoch',
      ),
      // max(idx) on the key's last column: one index probe, not a count of millions of rows.
      listLength: p('SELECT max(idx) + 1 AS n FROM log_hashes WHERE epoch = ? AND kind = ?'),
      insertHash: p('INSERT INTO log_hashes (epoch, kind, idx, hash) VALUES (?, ?, ?, ?)'),
      deleteHashes: p('DELETE FROM log_hashes WHERE epoch = ?'),
      hashes: p('SELECT hash FROM log_hashes WHERE epoch = ? AND kind = ? AND idx >= ? ORDER BY idx LIMIT ?'),
      isPruned: p('SELECT 1 FROM log_pruned WHERE epoch = ?'),
      markPruned: p('INSERT OR IGNORE INTO log_pruned (epoch) VALUES (?)'),
      // The key's leading rows of the epoch: a range of one B-tree, deleted in bounded steps.
      pruneSome: p(
        'DELETE FROM log_hashes WHERE (epoch, kind, idx) IN (SELECT epoch, kind, idx FROM log_hashes WHERE epoch = ? ORDER BY kind, idx LIMIT ?)',
      ),
      unpruned: p(
        'SELECT epoch FROM log_headers WHERE epoch < ? AND epoch NOT IN (SELECT epoch FROM log_pruned) ORDER BY epoch LIMIT ?',
      ),
    };
  }

  #length(epoch: number, kind: LogHashKind): number {
    return Number(this.#q.listLength!.get(epoch, KIND_CODE[kind])?.n ?? 0);
  }

  #closed(epoch: number): boolean {
    return this.#q.hasHeader!.get(epoch) !== undefined;
  }

  #last(): LogHeader | undefined {
    const row = this.#q.lastHeader!.get();
    return row ? (JSON.parse(row.json as string) as LogHeader) : undefined;
  }

  #insert(epoch: number, kind: LogHashKind, fromIndex: number, hashes: readonly string[]): void {
    const code = KIND_CODE[kind];
    hashes.forEach((h, i) => this.#q.insertHash!.run(epoch, code, fromIndex + i, toBlob(h)));
  }

  appendEntry(entry: LogEntry): void {
    assertLogHashes({ epoch: entry.epoch, kind: 'receipts', hashes: entry.receiptHashes });
    assertLogHashes({ epoch: entry.epoch, kind: 'verdicts', hashes: entry.verdictHashes });
    this.#transaction(() => {
      assertChainsFrom(this.#last(), entry);
      this.#q.deleteHashes!.run(entry.epoch);
      this.#insert(entry.epoch, 'receipts', 0, entry.receiptHashes);
      this.#insert(entry.epoch, 'verdicts', 0, entry.verdictHashes);
      this.#q.insertHeader!.run(entry.epoch, JSON.stringify(logHeaderOf(entry)));
    });
  }

  appendHashes(page: {
    epoch: number;
    kind: LogHashKind;
    fromIndex: number;
    hashes: readonly string[];
  }): void {
    assertLogHashes(page);
    this.#transaction(() => {
      if (this.#closed(page.epoch))
        throw new HexEdgeError('INTERNAL', `epoch ${page.epoch} is closed: its ${page.kind} list is final`);
      assertAppendsAt(page, this.#length(page.epoch, page.kind));
      this.#insert(page.epoch, page.kind, page.fromIndex, page.hashes);
    });
  }

  discardHashes(epoch: number): void {
    this.#transaction(() => {
      if (this.#closed(epoch))
        throw new HexEdgeError('INTERNAL', `epoch ${epoch} is closed: its hash lists are final`);
      this.#q.deleteHashes!.run(epoch);
    });
  }

  commitHeader(header: LogHeader, counts: Readonly<Record<LogHashKind, number>>): void {
    this.#transaction(() => {
      assertChainsFrom(this.#last(), header);
      assertCounts(header.epoch, counts, {
        receipts: this.#length(header.epoch, 'receipts'),
        verdicts: this.#length(header.epoch, 'verdicts'),
      });
      this.#q.insertHeader!.run(header.epoch, JSON.stringify(header));
    });
  }

  listHashes(options: { epoch: number; kind: LogHashKind; fromIndex: number; limit: number }): string[] {
    if (this.#q.isPruned!.get(options.epoch) !== undefined) throw prunedError(options.epoch);
    if (!this.#closed(options.epoch)) return [];
    return this.#q
      .hashes!.all(options.epoch, KIND_CODE[options.kind], options.fromIndex, options.limit)
      .map((r) => toHex(r.hash as Uint8Array));
  }

  pruneHashes(epoch: number, limit: number): number {
    return this.#transaction(() => {
      if (!this.#closed(epoch))
        throw new HexEdgeError('INTERNAL', `epoch ${epoch} is not closed: nothing to prune`);
      this.#q.markPruned!.run(epoch);
      return Number(this.#q.pruneSome!.run(epoch, limit).changes);
    });
  }

  unprunedEpochs(options: { beforeEpoch: number; limit: number }): number[] {
    return this.#q.unpruned!.all(options.beforeEpoch, options.limit).map((r) => Number(r.epoch));
  }

  listHeaders(options: { fromEpoch: number; limit: number }): LogHeader[] {
    return this.#q
      .headersFrom!.all(options.fromEpoch, options.limit)
      .map((r) => JSON.parse(r.json as string) as LogHeader);
  }

  getHeader(epoch: number): LogHeader | undefined {
    const row = this.#q.getHeader!.get(epoch);
    return row ? (JSON.parse(row.json as string) as LogHeader) : undefined;
  }

  recentHeaders(limit: number): LogHeader[] {
    return this.#q.recentHeaders!.all(limit).map((r) => JSON.parse(r.json as string) as LogHeader);
  }
}

/**
 * A store from before kept each epoch as one `log` row, hash lists inside its JSON. Once, on open, in one
 * write: headers for epochs that lack them (the lists dropped in SQLite, not parsed here), the lists as
 * rows (json_each, in SQLite too: the JS heap never holds one), then the old table goes. A hash that is
 * not hex fails the whole write (NOT NULL), so a store is migrated entirely or not at all.
 */
function migrateWholeEntries(db: DatabaseSync): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log'").get()) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`
      INSERT INTO log_headers (epoch, json)
        SELECT epoch, json_remove(json, '$.receiptHashes', '$.verdictHashes') FROM log
        WHERE epoch NOT IN (SELECT epoch FROM log_headers);
      DELETE FROM log_hashes WHERE epoch IN (SELECT epoch FROM log);
      INSERT INTO log_hashes (epoch, kind, idx, hash)
        SELECT log.epoch, 0, h.key, unhex(h.value) FROM log, json_each(log.json, '$.receiptHashes') AS h;
      INSERT INTO log_hashes (epoch, kind, idx, hash)
        SELECT log.epoch, 1, h.key, unhex(h.value) FROM log, json_each(log.json, '$.verdictHashes') AS h;
      DROP TABLE log;
    `);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw new HexEdgeError(
      'INTERNAL',
      `moving the provenance log's hash lists into rows failed: ${(err as Error).message}`,
    );
  }
}
