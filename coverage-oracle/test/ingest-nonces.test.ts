import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { ReplayGuard } from '../src/ingest/replay-guard.ts';
import { queryFile } from './fixtures/sqlite-file.ts';

/**
 * Ingest's spent nonces are appended to `ingest_nonces` (no key on node and nonce, so a commit does not
 * dirty an index page per report); what rebuilds the replay guard after a restart reads them together
 * with the keyed `nonces` table, where a store from before kept them and stake messages still claim.
 */
const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-ingest-nonces-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const rows = (file: string, table: string) =>
  queryFile(file, `SELECT node_id, nonce, expires_at_ms FROM ${table} ORDER BY rowid`);

describe('ingest nonces on SQLite', () => {
  it('are appended beside their reports and read back live, newest expiry first, at most `limit`', () => {
    const file = path.join(tmp, 'append.db');
    const store = new SqliteOracleStore({ path: file });
    store.commitIngest({
      reports: [],
      nonces: [
        { nodeId: 'gw', nonce: 'a', expiresAtMs: T0 + 10 },
        { nodeId: 'gw', nonce: 'b', expiresAtMs: T0 + 30 },
      ],
      nowMs: T0,
    });
    store.commitIngest({
      reports: [],
      nonces: [{ nodeId: 'gw', nonce: 'c', expiresAtMs: T0 + 20 }],
      nowMs: T0,
    });
    expect(rows(file, 'ingest_nonces').map((r) => r.nonce)).toEqual(['a', 'b', 'c']);
    expect(rows(file, 'nonces')).toEqual([]);
    expect(store.loadReplayState({ nowMs: T0 + 15, limit: 10 }).nonces.map((n) => n.nonce)).toEqual([
      'b',
      'c',
    ]);
    expect(store.loadReplayState({ nowMs: T0, limit: 2 }).nonces.map((n) => n.nonce)).toEqual(['b', 'c']);
    store.close();
  });

  it('a nonce spent again after it expired is a second row; the rebuilt guard holds the later expiry', () => {
    const file = path.join(tmp, 'again.db');
    const store = new SqliteOracleStore({ path: file });
    store.commitIngest({
      reports: [],
      nonces: [{ nodeId: 'gw', nonce: 'a', expiresAtMs: T0 + 10 }],
      nowMs: T0,
    });
    store.commitIngest({
      reports: [],
      nonces: [{ nodeId: 'gw', nonce: 'a', expiresAtMs: T0 + 100 }],
      nowMs: T0 + 20,
    });
    const state = store.loadReplayState({ nowMs: T0, limit: 10 });
    expect(state.nonces.map((n) => n.expiresAtMs)).toEqual([T0 + 100, T0 + 10]);
    const guard = new ReplayGuard({ state, maxAgeMs: 60_000 });
    expect(
      guard.claim({
        nodeId: 'gw',
        nonce: 'a',
        expiresAtMs: T0 + 60_030,
        issuedAtMs: T0 + 30,
        nowMs: T0 + 50,
      }),
    ).toBe('replayed');
    expect(
      guard.claim({
        nodeId: 'gw',
        nonce: 'a',
        expiresAtMs: T0 + 60_150,
        issuedAtMs: T0 + 150,
        nowMs: T0 + 150,
      }),
    ).toBe('fresh');
    store.close();
  });

  it('expired ones are pruned within a later commit', () => {
    const file = path.join(tmp, 'prune.db');
    const store = new SqliteOracleStore({ path: file });
    store.commitIngest({
      reports: [],
      nonces: [{ nodeId: 'gw', nonce: 'old', expiresAtMs: T0 + 10 }],
      nowMs: T0,
    });
    // The first commit pruned (nothing); the next prune is due a minute later.
    store.commitIngest({
      reports: [],
      nonces: [{ nodeId: 'gw', nonce: 'new', expiresAtMs: T0 + 120_000 }],
      nowMs: T0 + 61_000,
    });
    expect(rows(file, 'ingest_nonces').map((r) => r.nonce)).toEqual(['new']);
    store.close();
  });

  it("a store from before: ingest's rows in the keyed table and stake claims are read back with the new ones", () => {
    const file = path.join(tmp, 'before.db');
    const old = new DatabaseSync(file);
    old.exec(
      'CREATE TABLE nonces (node_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at_ms INTEGER NOT NULL, PRIMARY KEY (node_id, nonce)) STRICT',
    );
    old.prepare('INSERT INTO nonces VALUES (?, ?, ?)').run('gw', 'before', T0 + 50);
    old.close();
    const store = new SqliteOracleStore({ path: file });
    expect(store.claimNonce({ nodeId: 'n1', nonce: 'stake', expiresAtMs: T0 + 40, nowMs: T0 })).toBe(true);
    store.commitIngest({
      reports: [],
      nonces: [{ nodeId: 'gw', nonce: 'after', expiresAtMs: T0 + 60 }],
      nowMs: T0,
    });
    expect(store.loadReplayState({ nowMs: T0, limit: 10 }).nonces).toEqual([
      { nodeId: 'gw', nonce: 'after', expiresAtMs: T0 + 60 },
      { nodeId: 'gw', nonce: 'before', expiresAtMs: T0 + 50 },
      { nodeId: 'n1', nonce: 'stake', expiresAtMs: T0 + 40 },
    ]);
    // A stake message's nonce is still claimed once, in the keyed table.
    expect(store.claimNonce({ nodeId: 'n1', nonce: 'stake', expiresAtMs: T0 + 40, nowMs: T0 })).toBe(false);
    store.close();
  });
});
