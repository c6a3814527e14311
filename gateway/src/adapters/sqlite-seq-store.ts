import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { storageOpenMessage, storageUnavailable } from '@hexedge/protocol';
import type { SeqAdvance, SeqStore } from '../routes/oracle.ts';

/**
 * The last applied sequence number per sender (each oracle's trust pushes), in SQLite with durable
 * commits: kept only in memory, a push captured before a restart could be replayed once after it.
 */
export class SqliteSeqStore implements SeqStore {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #set: StatementSync;

  constructor(options: { path: string }) {
    try {
      this.#db = new DatabaseSync(options.path);
      this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS last_seq (sender TEXT PRIMARY KEY, seq INTEGER NOT NULL) STRICT;
      `);
    } catch (err) {
      throw new Error(storageOpenMessage(options.path, err));
    }
    this.#get = this.#db.prepare('SELECT seq FROM last_seq WHERE sender = ?');
    this.#set = this.#db.prepare(
      'INSERT INTO last_seq (sender, seq) VALUES (?, ?) ON CONFLICT (sender) DO UPDATE SET seq = excluded.seq',
    );
  }

  /** Read and write in one synchronous call: nothing else runs on this thread in between. */
  advance(sender: string, seq: number): SeqAdvance {
    const row = this.#get.get(sender);
    const last = row ? Number(row.seq) : -1;
    if (seq <= last) return { advanced: false, last };
    try {
      this.#set.run(sender, seq);
    } catch (err) {
      throw storageUnavailable(`trust push sequence of ${sender}`, err);
    }
    return { advanced: true, last };
  }

  close(): void {
    this.#db.close();
  }
}
