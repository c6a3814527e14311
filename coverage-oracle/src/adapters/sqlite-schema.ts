import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * The SQLite oracle store's tables (created when missing) and its prepared statements, apart from the
 * store's methods (node.ts). Records are JSON text; the columns beside them exist only to be queried.
 */
/**
 * Page size of a new store. A stored receipt report is ~3 KB of JSON and its work record ~1 KB more: at
 * SQLite's default 4 KB nearly every report took a page of its own, and every page a commit writes is
 * a WAL frame (two write system calls) and later a checkpoint write. At 16 KB a group commit of 100
 * reports writes a quarter of the frames: `bench/src/receipts/pipeline-cpu.ts` measured 1.87 reads +
 * 6.79 writes per receipt at 4 KB and 0.31 + 1.86 at 16 KB (8 KB: 0.68 + 3.29; 32 KB: 0.15 + 1.05),
 * and CPU per receipt 97–101 → 67–85 µs. 16 KB rather than more: a random-key index insert (a nonce,
 * a receipt hash) still dirties one whole page, so past 16 KB the bytes written per such insert grow
 * for few calls saved. Applies to a new, empty file only: SQLite keeps an existing store's page size.
 */
export const ORACLE_PAGE_SIZE = 16 * 1024;

export function createOracleTables(db: DatabaseSync): void {
  db.exec(`
    PRAGMA page_size = ${ORACLE_PAGE_SIZE};
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS nonces (node_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at_ms INTEGER NOT NULL, PRIMARY KEY (node_id, nonce)) STRICT;
    CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at_ms);
    CREATE TABLE IF NOT EXISTS ingest_nonces (node_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at_ms INTEGER NOT NULL) STRICT;
    CREATE INDEX IF NOT EXISTS ingest_nonces_expiry ON ingest_nonces (expires_at_ms);
    CREATE TABLE IF NOT EXISTS reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, round_key TEXT, json TEXT NOT NULL, received_at_ms INTEGER) STRICT;
    CREATE INDEX IF NOT EXISTS reports_round ON reports (round_key) WHERE round_key IS NOT NULL;
    CREATE TABLE IF NOT EXISTS cursors (stage TEXT PRIMARY KEY, seq INTEGER NOT NULL) STRICT;
    CREATE TABLE IF NOT EXISTS rounds (round_key TEXT PRIMARY KEY, beacon_seq INTEGER NOT NULL, closes_at_ms INTEGER NOT NULL) STRICT;
    CREATE TABLE IF NOT EXISTS last_beacon (hotspot_key TEXT PRIMARY KEY, at_ms INTEGER NOT NULL) STRICT;
    CREATE TABLE IF NOT EXISTS entropy (id TEXT PRIMARY KEY, start_ms INTEGER NOT NULL) STRICT;
    CREATE TABLE IF NOT EXISTS verdicts (id TEXT PRIMARY KEY, node_id TEXT NOT NULL, at_ms INTEGER NOT NULL, json TEXT NOT NULL) STRICT;
    CREATE INDEX IF NOT EXISTS verdicts_time ON verdicts (at_ms);
    CREATE INDEX IF NOT EXISTS verdicts_node ON verdicts (node_id, at_ms);
    CREATE TABLE IF NOT EXISTS work (receipt_hash TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, json TEXT NOT NULL) STRICT;
    CREATE INDEX IF NOT EXISTS work_time ON work (at_ms);
    CREATE TABLE IF NOT EXISTS stake (seq INTEGER PRIMARY KEY AUTOINCREMENT, node_id TEXT NOT NULL, type TEXT NOT NULL, evidence_id TEXT, json TEXT NOT NULL) STRICT;
    CREATE UNIQUE INDEX IF NOT EXISTS stake_one_slash_per_evidence ON stake (evidence_id) WHERE type = 'slash';
    CREATE INDEX IF NOT EXISTS stake_node ON stake (node_id, seq);
    CREATE TABLE IF NOT EXISTS trust (node_id TEXT PRIMARY KEY, json TEXT NOT NULL) STRICT;
    CREATE TABLE IF NOT EXISTS coverage (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, json TEXT NOT NULL) STRICT;
    CREATE TABLE IF NOT EXISTS ingest_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
  `);
  // A store from before the column: its rows keep NULL there and retention reads their JSON, as it did.
  if (!db.prepare("SELECT 1 FROM pragma_table_info('reports') WHERE name = 'received_at_ms'").get())
    db.exec('ALTER TABLE reports ADD COLUMN received_at_ms INTEGER');
  // The provenance log's tables (and the move from a store from before) are sqlite-log.ts's.
}

export function prepareOracleStatements(db: DatabaseSync): Record<string, StatementSync> {
  const p = (sql: string) => db.prepare(sql);
  return {
    pruneNonces: p('DELETE FROM nonces WHERE expires_at_ms < ?'),
    pruneIngestNonces: p('DELETE FROM ingest_nonces WHERE expires_at_ms < ?'),
    claimNonce: p(`INSERT INTO nonces (node_id, nonce, expires_at_ms) VALUES (?, ?, ?)
      ON CONFLICT (node_id, nonce) DO UPDATE SET expires_at_ms = excluded.expires_at_ms WHERE nonces.expires_at_ms < ?`),
    // receivedAtMs again beside the JSON: retention's age test reads it without parsing ~2.5 KB of JSON a row.
    insertReport: p('INSERT INTO reports (round_key, received_at_ms, json) VALUES (?, ?, ?)'),
    // Ingest's spent nonces, appended: its replay guard in memory decides, these rows only rebuild it
    // after a restart. No key on (node_id, nonce): a random key dirtied one index page per report per
    // commit (the most write system calls of a receipt's commit); rows land in insertion order, and
    // expiry grows with it (issue time + the acceptance window), so its index is appended to as well.
    // A nonce spent again after it expired is a second row; the guard keeps the later expiry.
    putIngestNonce: p('INSERT INTO ingest_nonces (node_id, nonce, expires_at_ms) VALUES (?, ?, ?)'),
    // Live ingest nonces, and those in the keyed table: a store from before kept ingest's there, and
    // stake messages' claims (claimNonce) still live there, as they always did.
    liveNonces: p(
      `SELECT node_id, nonce, expires_at_ms FROM ingest_nonces WHERE expires_at_ms >= ?1
       UNION ALL
       SELECT node_id, nonce, expires_at_ms FROM nonces WHERE expires_at_ms >= ?1
       ORDER BY expires_at_ms DESC LIMIT ?2`,
    ),
    getState: p('SELECT value FROM ingest_state WHERE key = ?'),
    raiseState: p(
      'INSERT INTO ingest_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)',
    ),
    listReports: p('SELECT seq, json FROM reports WHERE seq > ? ORDER BY seq LIMIT ?'),
    roundReports: p('SELECT seq, json FROM reports WHERE round_key = ? ORDER BY seq'),
    recentRoundReports: p(
      'SELECT seq, json FROM (SELECT seq, json FROM reports WHERE round_key = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
    ),
    getCursor: p('SELECT seq FROM cursors WHERE stage = ?'),
    setCursor: p('INSERT OR REPLACE INTO cursors (stage, seq) VALUES (?, ?)'),
    openRound: p('INSERT OR IGNORE INTO rounds (round_key, beacon_seq, closes_at_ms) VALUES (?, ?, ?)'),
    dueRounds: p(
      'SELECT round_key, beacon_seq, closes_at_ms FROM rounds WHERE closes_at_ms <= ? ORDER BY beacon_seq LIMIT ?',
    ),
    closeRound: p('DELETE FROM rounds WHERE round_key = ?'),
    getLastBeacon: p('SELECT at_ms FROM last_beacon WHERE hotspot_key = ?'),
    setLastBeacon: p('INSERT OR REPLACE INTO last_beacon (hotspot_key, at_ms) VALUES (?, ?)'),
    saveEntropy: p('INSERT OR REPLACE INTO entropy (id, start_ms) VALUES (?, ?)'),
    getEntropy: p('SELECT id, start_ms FROM entropy WHERE id = ?'),
    listVerdicts: p('SELECT json FROM verdicts WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms, id'),
    recentNodeVerdicts: p(
      'SELECT json FROM verdicts WHERE node_id = ? AND at_ms >= ? ORDER BY at_ms DESC, id LIMIT ?',
    ),
    listNodeVerdicts: p(
      'SELECT json FROM verdicts WHERE node_id = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms, id',
    ),
    saveWork: p('INSERT OR IGNORE INTO work (receipt_hash, at_ms, json) VALUES (?, ?, ?)'),
    listWork: p('SELECT json FROM work WHERE at_ms >= ? AND at_ms < ? ORDER BY receipt_hash'),
    insertStake: p('INSERT OR IGNORE INTO stake (node_id, type, evidence_id, json) VALUES (?, ?, ?, ?)'),
    listStake: p('SELECT seq, json FROM stake ORDER BY seq'),
    listNodeStake: p('SELECT seq, json FROM stake WHERE node_id = ? ORDER BY seq'),
    saveTrust: p('INSERT OR REPLACE INTO trust (node_id, json) VALUES (?, ?)'),
    listTrust: p('SELECT json FROM trust ORDER BY node_id'),
    getTrust: p('SELECT json FROM trust WHERE node_id = ?'),
    saveCoverage: p('INSERT INTO coverage (at_ms, json) VALUES (?, ?)'),
    listCoverage: p('SELECT json FROM coverage WHERE at_ms >= ? ORDER BY id'),
  };
}
