import type { DemandRow, NodeRecord, NodeStore, TrustRecord } from '../index.ts';

/**
 * NodeStore on a Durable Object's SQLite storage. The SQL API is synchronous and each call is its own
 * implicit transaction; the runtime's output gate holds the object's reply until the write is
 * durable, so an acknowledged registration or heartbeat is never lost (the Workers equivalent of
 * synchronous=FULL in the Node store).
 */
export class DurableNodeStore implements NodeStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, record TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS trust (node_id TEXT PRIMARY KEY, score REAL NOT NULL, reasons TEXT NOT NULL, updated_at_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS demand (
        bucket_start_ms INTEGER NOT NULL, cell TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,
        count INTEGER NOT NULL, PRIMARY KEY (bucket_start_ms, cell, model, version)
      );
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
  }

  loadNodes(): NodeRecord[] {
    return this.#sql
      .exec<{ record: string }>('SELECT record FROM nodes ORDER BY id')
      .toArray()
      .map((row) => JSON.parse(row.record) as NodeRecord);
  }

  saveNode(node: NodeRecord): void {
    this.#sql.exec('INSERT OR REPLACE INTO nodes (id, record) VALUES (?, ?)', node.id, JSON.stringify(node));
  }

  deleteNode(nodeId: string): void {
    this.#sql.exec('DELETE FROM nodes WHERE id = ?', nodeId);
  }

  loadTrust(): TrustRecord[] {
    return this.#sql
      .exec<{ node_id: string; score: number; reasons: string; updated_at_ms: number }>('SELECT node_id, score, reasons, updated_at_ms FROM trust ORDER BY node_id')
      .toArray()
      .map((row) => ({ nodeId: row.node_id, score: row.score, reasons: JSON.parse(row.reasons) as string[], updatedAtMs: Number(row.updated_at_ms) }));
  }

  saveTrust(record: TrustRecord): void {
    this.#sql.exec('INSERT OR REPLACE INTO trust (node_id, score, reasons, updated_at_ms) VALUES (?, ?, ?, ?)', record.nodeId, record.score, JSON.stringify(record.reasons), record.updatedAtMs);
  }

  loadDemand(): DemandRow[] {
    return this.#sql
      .exec<{ bucket_start_ms: number; cell: string; model: string; version: string; count: number }>('SELECT bucket_start_ms, cell, model, version, count FROM demand')
      .toArray()
      .map((r) => ({ bucketStartMs: Number(r.bucket_start_ms), cell: r.cell, model: r.model, version: r.version, count: Number(r.count) }));
  }

  saveDemand(rows: DemandRow[]): void {
    this.#storage.transactionSync(() => {
      this.#sql.exec('DELETE FROM demand');
      for (const r of rows) this.#sql.exec('INSERT INTO demand (bucket_start_ms, cell, model, version, count) VALUES (?, ?, ?, ?, ?)', r.bucketStartMs, r.cell, r.model, r.version, r.count);
    });
  }

  getMeta(key: string): string | undefined {
    return this.#sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value;
  }

  setMeta(key: string, value: string): void {
    this.#sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, value);
  }
}
