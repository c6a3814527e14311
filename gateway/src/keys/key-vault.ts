import { usableKey } from './key-ring.ts';
import type { ApiKeyRecord } from './key-store.ts';
import { takeToken, usedOn, type BucketState, type RateDecision } from './rate-limit.ts';

/**
 * What the key tables need of a SQL engine: a Durable Object's `ctx.storage.sql` (each call its own
 * implicit transaction, the reply held by the output gate until the write is durable), or node:sqlite
 * in unit tests. One statement per call.
 */
export interface SqlRunner {
  exec(query: string, ...bindings: (string | number | null)[]): { toArray(): Record<string, unknown>[] };
}

/**
 * The authority for keys by hash: their records (revocation included) and their token buckets and
 * daily counts. On Workers each key has its own instance (a Durable Object named by the key's hash),
 * so every check and count for a key is serialized in one place, whichever isolate asks.
 *
 * Tables are created by the first write, not on open: looking up a key nobody made (a guessed or
 * sprayed key reaches an object of its own) must leave no storage behind.
 */
export class KeyVault {
  readonly #sql: SqlRunner;
  #hasTables: boolean;

  constructor(sql: SqlRunner) {
    this.#sql = sql;
    this.#hasTables =
      sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'api_key'").toArray().length >
      0;
  }

  get(hash: string): ApiKeyRecord | undefined {
    if (!this.#hasTables) return undefined;
    const row = this.#sql.exec('SELECT record FROM api_key WHERE hash = ?', hash).toArray()[0];
    return row ? (JSON.parse(row.record as string) as ApiKeyRecord) : undefined;
  }

  /** Upserts `record`; a revocation already stored is final (an older copy written back cannot lift it). */
  put(record: ApiKeyRecord): ApiKeyRecord {
    const stored = this.get(record.hash);
    const revokedAtMs = stored?.revokedAtMs ?? record.revokedAtMs;
    const next = revokedAtMs === undefined ? record : { ...record, revokedAtMs };
    this.#write(next);
    return next;
  }

  /** Stores `record` unless its hash is here; returns what is stored (atomic: an object runs one call at a time). */
  putIfAbsent(record: ApiKeyRecord): ApiKeyRecord {
    const stored = this.get(record.hash);
    if (stored) return stored;
    this.#write(record);
    return record;
  }

  /** Counts one request for the key at `nowMs`: UNAUTHORIZED if unknown, revoked or expired; RATE_LIMITED if spent. */
  take(hash: string, nowMs: number): RateDecision {
    const key = usableKey(this.get(hash), nowMs);
    const { state, decision } = takeToken(this.#bucket(hash), key, nowMs);
    this.#sql.exec(
      'INSERT OR REPLACE INTO bucket (hash, tokens, updated_at_ms, day, used_today) VALUES (?, ?, ?, ?, ?)',
      hash,
      state.tokens,
      state.updatedAtMs,
      state.day,
      state.usedToday,
    );
    return decision;
  }

  /** Requests counted for the key on the UTC day of `nowMs`; UNAUTHORIZED as for `take`. */
  usedToday(hash: string, nowMs: number): number {
    usableKey(this.get(hash), nowMs);
    return usedOn(this.#bucket(hash), nowMs);
  }

  #bucket(hash: string): BucketState | undefined {
    const row = this.#sql
      .exec('SELECT tokens, updated_at_ms, day, used_today FROM bucket WHERE hash = ?', hash)
      .toArray()[0];
    return row
      ? {
          tokens: Number(row.tokens),
          updatedAtMs: Number(row.updated_at_ms),
          day: Number(row.day),
          usedToday: Number(row.used_today),
        }
      : undefined;
  }

  #write(record: ApiKeyRecord): void {
    if (!this.#hasTables) {
      this.#sql.exec('CREATE TABLE IF NOT EXISTS api_key (hash TEXT PRIMARY KEY, record TEXT NOT NULL)');
      this.#sql.exec(
        'CREATE TABLE IF NOT EXISTS bucket (hash TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at_ms INTEGER NOT NULL, day INTEGER NOT NULL, used_today INTEGER NOT NULL)',
      );
      this.#hasTables = true;
    }
    this.#sql.exec(
      'INSERT OR REPLACE INTO api_key (hash, record) VALUES (?, ?)',
      record.hash,
      JSON.stringify(record),
    );
  }
}

/**
 * Keys by id, for listing and revoking by id: copies of what the vaults hold (each written after its
 * vault accepted the change), never consulted to authenticate. Only hashes, as everywhere.
 */
export class KeyIndex {
  readonly #sql: SqlRunner;

  constructor(sql: SqlRunner) {
    this.#sql = sql;
    sql.exec(
      'CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, record TEXT NOT NULL)',
    );
  }

  get(id: string): ApiKeyRecord | undefined {
    const row = this.#sql.exec('SELECT record FROM api_keys WHERE id = ?', id).toArray()[0];
    return row ? (JSON.parse(row.record as string) as ApiKeyRecord) : undefined;
  }

  /** Upserts by id; an unchanged record is not written again (every isolate's adoption of the admin key lands here). */
  put(record: ApiKeyRecord): void {
    const text = JSON.stringify(record);
    if (
      this.#sql.exec('SELECT 1 FROM api_keys WHERE id = ? AND record = ?', record.id, text).toArray().length >
      0
    )
      return;
    this.#sql.exec(
      'INSERT INTO api_keys (id, hash, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET hash = excluded.hash, record = excluded.record',
      record.id,
      record.hash,
      text,
    );
  }

  list(): ApiKeyRecord[] {
    return this.#sql
      .exec('SELECT record FROM api_keys ORDER BY id')
      .toArray()
      .map((row) => JSON.parse(row.record as string) as ApiKeyRecord);
  }
}
