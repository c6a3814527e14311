import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { storageOpenMessage, storageUnavailable } from '@hexedge/protocol';
import type { ApiKeyRecord, KeyStore } from '../keys/key-store.ts';

/**
 * API keys in SQLite (node:sqlite): WAL with synchronous=FULL, so a key created or revoked is on disk
 * before the answer leaves. Only hashes are stored. Reads are served from memory, loaded at open.
 */
export class SqliteKeyStore implements KeyStore {
  readonly #db: DatabaseSync;
  readonly #upsert: StatementSync;
  readonly #byId = new Map<string, ApiKeyRecord>();
  readonly #byHash = new Map<string, ApiKeyRecord>();

  constructor(options: { path: string }) {
    try {
      this.#db = new DatabaseSync(options.path);
      this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
      `);
    } catch (err) {
      // SQLite says only "unable to open database file": name the file and the usual causes.
      throw new Error(storageOpenMessage(options.path, err));
    }
    this.#upsert = this.#db.prepare(
      'INSERT INTO api_keys (id, hash, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET hash = excluded.hash, record = excluded.record',
    );
    for (const row of this.#db.prepare('SELECT record FROM api_keys').all() as { record: string }[])
      this.#remember(JSON.parse(row.record) as ApiKeyRecord);
  }

  #remember(record: ApiKeyRecord): void {
    this.#byId.set(record.id, record);
    this.#byHash.set(record.hash, record);
  }

  put(record: ApiKeyRecord): void {
    // Disk first: if the write fails, memory still agrees with what survives a restart.
    try {
      this.#upsert.run(record.id, record.hash, JSON.stringify(record));
    } catch (err) {
      throw storageUnavailable(`API key ${record.id}`, err);
    }
    this.#remember(record);
  }

  getById(id: string): ApiKeyRecord | undefined {
    return this.#byId.get(id);
  }

  getByHash(hash: string): ApiKeyRecord | undefined {
    return this.#byHash.get(hash);
  }

  list(): ApiKeyRecord[] {
    return [...this.#byId.values()];
  }

  close(): void {
    this.#db.close();
  }
}
