import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { storageOpenMessage, storageUnavailable } from '@hexedge/protocol';
import type { DemandRow, DepartedNode, NodeRecord, NodeStore, TrustRecord } from '../index.ts';

/**
 * NodeStore on SQLite (`node:sqlite`). WAL lets readers run beside the writer; synchronous=FULL makes
 * every commit durable before it returns (WAL's default NORMAL may lose the last commits on power
 * loss, which here would mean a replayable heartbeat sequence number).
 *
 * Node writes are group-committed: registrations and heartbeats accepted in one turn of the event loop
 * are written in one transaction (one fsync) right after it, and `whenDurable()` settles when that
 * commit has; the gateway answers a node only then. A flood of messages then costs one durable commit
 * per batch, not one per message on the event loop.
 */
export class SqliteNodeStore implements NodeStore {
  /** Transactions committed for node writes (for tests and metrics: many messages, few commits). */
  readonly stats = { nodeCommits: 0, nodeWrites: 0 };
  readonly #pending = new Map<string, string>();
  #batch: Promise<void> | undefined;
  readonly #db: DatabaseSync;
  readonly #saveNode: StatementSync;
  readonly #deleteNode: StatementSync;
  readonly #saveTrust: StatementSync;
  readonly #insertDemand: StatementSync;
  readonly #saveDeparted: StatementSync;
  readonly #deleteDeparted: StatementSync;

  constructor(options: { path: string }) {
    try {
      this.#db = new DatabaseSync(options.path);
      this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, record TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS trust (
        node_id TEXT PRIMARY KEY, score REAL NOT NULL, reasons TEXT NOT NULL, updated_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS demand (
        bucket_start_ms INTEGER NOT NULL, cell TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,
        count INTEGER NOT NULL, PRIMARY KEY (bucket_start_ms, cell, model, version)
      ) STRICT;
      CREATE TABLE IF NOT EXISTS departed (id TEXT PRIMARY KEY, record TEXT NOT NULL) STRICT;
      `);
    } catch (err) {
      // SQLite says only "unable to open database file": name the file and the usual causes.
      throw new Error(storageOpenMessage(options.path, err));
    }
    this.#saveNode = this.#db.prepare('INSERT OR REPLACE INTO nodes (id, record) VALUES (?, ?)');
    this.#deleteNode = this.#db.prepare('DELETE FROM nodes WHERE id = ?');
    this.#saveTrust = this.#db.prepare(
      'INSERT OR REPLACE INTO trust (node_id, score, reasons, updated_at_ms) VALUES (?, ?, ?, ?)',
    );
    this.#insertDemand = this.#db.prepare(
      'INSERT INTO demand (bucket_start_ms, cell, model, version, count) VALUES (?, ?, ?, ?, ?)',
    );
    this.#saveDeparted = this.#db.prepare('INSERT OR REPLACE INTO departed (id, record) VALUES (?, ?)');
    this.#deleteDeparted = this.#db.prepare('DELETE FROM departed WHERE id = ?');
  }

  loadDeparted(): DepartedNode[] {
    return this.#db
      .prepare('SELECT record FROM departed')
      .all()
      .map((row) => JSON.parse(row.record as string) as DepartedNode);
  }

  saveDeparted(node: DepartedNode): void {
    this.#saveDeparted.run(node.nodeId, JSON.stringify(node));
  }

  deleteDeparted(nodeId: string): void {
    this.#deleteDeparted.run(nodeId);
  }

  loadNodes(): NodeRecord[] {
    this.#flush();
    return this.#db
      .prepare('SELECT record FROM nodes ORDER BY id')
      .all()
      .map((row) => JSON.parse(row.record as string) as NodeRecord);
  }

  saveNode(node: NodeRecord): void {
    this.#pending.set(node.id, JSON.stringify(node));
    this.#schedule();
  }

  /** Evictions and hand-offs are rare: written at once (a pending save of the node is dropped). */
  deleteNode(nodeId: string): void {
    this.#pending.delete(nodeId);
    this.#deleteNode.run(nodeId);
  }

  whenDurable(): Promise<void> {
    return this.#batch ?? Promise.resolve();
  }

  #schedule(): void {
    if (this.#batch) return;
    const batch = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.#batch = undefined;
        try {
          this.#flush();
          resolve();
        } catch (err) {
          reject(storageUnavailable(`node registrations and heartbeats`, err));
        }
      });
    });
    batch.catch(() => {}); // the answers waiting on it report the failure; nobody waiting is fine too
    this.#batch = batch;
  }

  /** Writes every pending node change in one transaction. */
  #flush(): void {
    if (this.#pending.size === 0) return;
    const writes = [...this.#pending];
    this.#pending.clear();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const [id, json] of writes) this.#saveNode.run(id, json);
      this.#db.exec('COMMIT');
    } catch (err) {
      // SQLite may have rolled back already (SQLITE_FULL at COMMIT does): the original error is the one to report.
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // no transaction left to roll back
      }
      // Dropped, not retried: every message in the batch is answered STORAGE_UNAVAILABLE and the registry
      // takes its changes back (NodeRegistry.#commit), so a refused registration is not half-applied.
      throw err;
    }
    this.stats.nodeCommits++;
    this.stats.nodeWrites += writes.length;
  }

  loadTrust(): TrustRecord[] {
    return this.#db
      .prepare('SELECT node_id, score, reasons, updated_at_ms FROM trust ORDER BY node_id')
      .all()
      .map((row) => ({
        nodeId: row.node_id as string,
        score: row.score as number,
        reasons: JSON.parse(row.reasons as string) as string[],
        updatedAtMs: Number(row.updated_at_ms),
      }));
  }

  saveTrust(record: TrustRecord): void {
    try {
      this.#saveTrust.run(record.nodeId, record.score, JSON.stringify(record.reasons), record.updatedAtMs);
    } catch (err) {
      throw storageUnavailable(`trust of node ${record.nodeId}`, err);
    }
  }

  loadDemand(): DemandRow[] {
    return this.#db
      .prepare('SELECT bucket_start_ms, cell, model, version, count FROM demand')
      .all()
      .map((row) => ({
        bucketStartMs: Number(row.bucket_start_ms),
        cell: row.cell as string,
        model: row.model as string,
        version: row.version as string,
        count: Number(row.count),
      }));
  }

  saveDemand(rows: DemandRow[]): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#db.exec('DELETE FROM demand');
      for (const r of rows) this.#insertDemand.run(r.bucketStartMs, r.cell, r.model, r.version, r.count);
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    try {
      this.#flush();
    } finally {
      this.#db.close();
    }
  }
}
