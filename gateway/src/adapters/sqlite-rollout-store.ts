import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { storageOpenMessage, storageUnavailable } from '@hexedge/protocol';
import type { Rollout, VersionPolicy } from '../rollouts/rollout-spec.ts';
import { MAX_KEPT_ROLLOUTS, type RolloutStore } from '../rollouts/rollout-store.ts';

/**
 * Rollouts and version policies in SQLite (`rollouts.sqlite` under the gateway's data directory), one
 * JSON document per row, committed durably (WAL, synchronous FULL) before the change is answered: a
 * restarted gateway resumes a running rollout and keeps a rollback's pinned version.
 */
export class SqliteRolloutStore implements RolloutStore {
  readonly #db: DatabaseSync;
  readonly #saveRollout: StatementSync;
  readonly #prune: StatementSync;
  readonly #savePolicy: StatementSync;

  constructor(options: { path: string }) {
    try {
      this.#db = new DatabaseSync(options.path);
      this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS rollouts (id TEXT PRIMARY KEY, model TEXT NOT NULL, state TEXT NOT NULL, created_at_ms INTEGER NOT NULL, doc TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS version_policies (model TEXT PRIMARY KEY, doc TEXT NOT NULL) STRICT;
      `);
    } catch (err) {
      throw new Error(storageOpenMessage(options.path, err));
    }
    this.#saveRollout = this.#db.prepare(
      'INSERT INTO rollouts (id, model, state, created_at_ms, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, doc = excluded.doc',
    );
    // Running rollouts are never pruned; finished ones past the newest MAX_KEPT_ROLLOUTS are.
    this.#prune = this.#db.prepare(
      `DELETE FROM rollouts WHERE state != 'running' AND id NOT IN (SELECT id FROM rollouts ORDER BY created_at_ms DESC LIMIT ${MAX_KEPT_ROLLOUTS})`,
    );
    this.#savePolicy = this.#db.prepare(
      'INSERT INTO version_policies (model, doc) VALUES (?, ?) ON CONFLICT (model) DO UPDATE SET doc = excluded.doc',
    );
  }

  loadRollouts(): Rollout[] {
    return this.#db
      .prepare('SELECT doc FROM rollouts ORDER BY created_at_ms')
      .all()
      .map((row) => JSON.parse(String(row.doc)) as Rollout);
  }

  save(change: { rollout?: Rollout; policy?: VersionPolicy }): void {
    const { rollout, policy } = change;
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        if (rollout) {
          this.#saveRollout.run(
            rollout.id,
            rollout.model,
            rollout.state,
            rollout.createdAtMs,
            JSON.stringify(rollout),
          );
          if (rollout.state !== 'running') this.#prune.run();
        }
        if (policy) this.#savePolicy.run(policy.model, JSON.stringify(policy));
        this.#db.exec('COMMIT');
      } catch (err) {
        this.#db.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      throw storageUnavailable(rollout ? `rollout ${rollout.id}` : `version policy of ${policy?.model}`, err);
    }
  }

  loadPolicies(): VersionPolicy[] {
    return this.#db
      .prepare('SELECT doc FROM version_policies ORDER BY model')
      .all()
      .map((row) => JSON.parse(String(row.doc)) as VersionPolicy);
  }

  close(): void {
    this.#db.close();
  }
}
