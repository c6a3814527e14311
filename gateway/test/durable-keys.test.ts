// The logic of the Worker's keys without workerd: KeyVault and KeyIndex on real SQLite (node:sqlite,
// the same statements as a Durable Object's storage runs), and DurableKeyStore over local objects
// that copy arguments and answers as RPC does. worker-keys.test.ts runs the same code in workerd.
import { asResult } from '@hexedge/placement/shards';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { KeyIndex, KeyVault, type SqlRunner } from '../src/keys/key-vault.ts';
import { DurableKeyStore } from '../src/objects/durable-key-store.ts';
import type { KeyDirectoryApi, KeyObjects, KeyVaultApi } from '../src/objects/key-objects.ts';
import { KeyRing, type ApiKeyRecord } from '../src/index.ts';

const DAY_MS = 86_400_000;

/** node:sqlite as a Durable Object's `sql`, recording each statement. */
function sqlOf(
  db = new DatabaseSync(':memory:'),
  log: string[] = [],
): SqlRunner & { db: DatabaseSync; log: string[] } {
  return {
    db,
    log,
    exec: (query, ...bindings) => {
      log.push(query);
      const rows = db.prepare(query).all(...bindings) as Record<string, unknown>[]; // run now, as a Durable Object's exec does
      return { toArray: () => rows };
    },
  };
}

const record = (over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: 'k1',
  name: 'k',
  hash: 'a'.repeat(64),
  role: 'app',
  ratePerSecond: 1,
  burst: 2,
  dailyQuota: 3,
  createdAtMs: 0,
  ...over,
});

const tables = (db: DatabaseSync) =>
  (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((r) => r.name);

describe('KeyVault (one key’s authority)', () => {
  it('looks up an unknown key without creating anything', () => {
    const sql = sqlOf();
    const vault = new KeyVault(sql);
    expect(vault.get('f'.repeat(64))).toBeUndefined();
    expect(() => vault.take('f'.repeat(64), 0)).toThrow(
      expect.objectContaining({ code: 'UNAUTHORIZED', message: 'API key is not valid' }),
    );
    expect(() => vault.usedToday('f'.repeat(64), 0)).toThrow(
      expect.objectContaining({ code: 'UNAUTHORIZED' }),
    );
    expect(tables(sql.db)).toEqual([]);
    vault.put(record());
    expect(tables(sql.db)).toEqual(['api_key', 'bucket']);
  });

  it('keeps a revocation final: an older copy written back does not lift it', () => {
    const vault = new KeyVault(sqlOf());
    vault.put(record());
    expect(vault.put(record({ revokedAtMs: 100 })).revokedAtMs).toBe(100);
    expect(vault.put(record()).revokedAtMs).toBe(100);
    expect(vault.put(record({ revokedAtMs: 500 })).revokedAtMs).toBe(100);
    expect(vault.get(record().hash)?.revokedAtMs).toBe(100);
    expect(() => vault.take(record().hash, 200)).toThrow(
      expect.objectContaining({ code: 'UNAUTHORIZED', message: 'API key k1 was revoked' }),
    );
  });

  it('stores only the first of several adoptions of one key', () => {
    const vault = new KeyVault(sqlOf());
    expect(vault.putIfAbsent(record({ id: 'first' })).id).toBe('first');
    expect(vault.putIfAbsent(record({ id: 'second' })).id).toBe('first');
    vault.put(record({ id: 'first', revokedAtMs: 1 }));
    expect(vault.putIfAbsent(record({ id: 'third' }))).toMatchObject({ id: 'first', revokedAtMs: 1 });
  });

  it('meters burst and daily quota by its own record, and keeps counts when the object restarts', () => {
    const sql = sqlOf();
    const hash = record().hash;
    new KeyVault(sql).put(record({ ratePerSecond: 1, burst: 2, dailyQuota: 3 }));
    const t0 = 10 * DAY_MS + 1_000;
    let vault = new KeyVault(sql);
    expect(vault.take(hash, t0)).toEqual({ limit: 2, remaining: 1, resetSeconds: 1 });
    vault = new KeyVault(sql); // evicted and started again: the bucket is in storage
    expect(vault.take(hash, t0).remaining).toBe(0);
    expect(() => vault.take(hash, t0)).toThrow(
      expect.objectContaining({ code: 'RATE_LIMITED', details: { retryAfterMs: 1_000, limit: 2 } }),
    );
    expect(vault.take(hash, t0 + 1_000).remaining).toBe(0); // one token back after a second
    expect(vault.usedToday(hash, t0)).toBe(3);
    expect(() => new KeyVault(sql).take(hash, t0 + 60_000)).toThrow(
      expect.objectContaining({
        code: 'RATE_LIMITED',
        message: 'daily quota of 3 requests used up for key k1; resets at 00:00 UTC',
      }),
    );
    expect(new KeyVault(sql).usedToday(hash, t0 + DAY_MS)).toBe(0); // a new UTC day
    expect(new KeyVault(sql).take(hash, t0 + DAY_MS).remaining).toBe(1);
  });

  it('refuses an expired key by its own clock', () => {
    const vault = new KeyVault(sqlOf());
    vault.put(record({ expiresAtMs: 5_000 }));
    expect(vault.take(record().hash, 4_999).limit).toBe(2);
    expect(() => vault.take(record().hash, 5_000)).toThrow(
      expect.objectContaining({
        code: 'UNAUTHORIZED',
        message: 'API key k1 expired at 1970-01-01T00:00:05.000Z',
      }),
    );
  });
});

describe('KeyIndex (the directory)', () => {
  it('lists by id and does not rewrite an unchanged record', () => {
    const sql = sqlOf();
    const index = new KeyIndex(sql);
    index.put(record({ id: 'b', hash: 'b'.repeat(64) }));
    index.put(record({ id: 'a', hash: 'a'.repeat(64) }));
    const writes = () => sql.log.filter((q) => q.startsWith('INSERT')).length;
    expect(writes()).toBe(2);
    index.put(record({ id: 'a', hash: 'a'.repeat(64) }));
    expect(writes()).toBe(2);
    index.put(record({ id: 'a', hash: 'a'.repeat(64), revokedAtMs: 9 }));
    expect(writes()).toBe(3);
    expect(index.list().map((r) => [r.id, r.revokedAtMs])).toEqual([
      ['a', 9],
      ['b', undefined],
    ]);
    expect(index.get('a')?.revokedAtMs).toBe(9);
    expect(index.get('zz')).toBeUndefined();
  });
});

/** One deployment's objects, local: a vault per hash and one directory, answers copied as over RPC. */
function localObjects() {
  const vaults = new Map<string, KeyVault>();
  const index = new KeyIndex(sqlOf());
  const calls = { lookups: 0, takes: 0 };
  let failDirectoryWrites = 0;
  const copy = <T>(v: T): T => structuredClone(v);
  const vaultOf = (hash: string) =>
    vaults.get(hash) ?? (vaults.set(hash, new KeyVault(sqlOf())), vaults.get(hash)!);
  const now = 1_000; // the objects' clock
  const objects: KeyObjects = {
    vault: (name): KeyVaultApi => ({
      lookup: async (hash) => (calls.lookups++, copy(vaultOf(name).get(hash) ?? null)),
      store: async (r) => copy(vaultOf(name).put(copy(r))),
      storeIfAbsent: async (r) => copy(vaultOf(name).putIfAbsent(copy(r))),
      take: async (hash) => (calls.takes++, copy(await asResult(() => vaultOf(name).take(hash, now)))),
      usedToday: async (hash) => copy(await asResult(() => vaultOf(name).usedToday(hash, now))),
    }),
    directory: (): KeyDirectoryApi => ({
      lookup: async (id) => copy(index.get(id) ?? null),
      upsert: async (r) => {
        if (failDirectoryWrites > 0 && failDirectoryWrites--) throw new Error('directory unavailable');
        index.put(copy(r));
      },
      list: async () => copy(index.list()),
    }),
  };
  return {
    objects,
    calls,
    failNextDirectoryWrite: () => void (failDirectoryWrites = 1),
  };
}

describe('DurableKeyStore (isolates sharing the objects)', () => {
  const isolate = (
    objects: KeyObjects,
    options: { now?: () => number; cacheTtlMs?: number; cacheEntries?: number } = {},
  ) => {
    const store = new DurableKeyStore({ objects, ...options });
    return { store, keys: new KeyRing({ store, ...(options.now ? { now: options.now } : {}) }) };
  };

  it('sees a key made in another isolate at once (no cached misses)', async () => {
    const net = localObjects();
    const [a, b] = [isolate(net.objects), isolate(net.objects)];
    const made = await a.keys.create({ name: 'x' });
    await expect(b.keys.authenticate(`${made.key}x`)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await b.keys.authenticate(made.key)).id).toBe(made.record.id);
    expect((await b.keys.list()).map((r) => r.id)).toEqual([made.record.id]);
  });

  it('serves lookups from its cache within the TTL, but meters and checks revocation in the vault every time', async () => {
    const net = localObjects();
    let nowMs = 0;
    const a = isolate(net.objects);
    const b = isolate(net.objects, { now: () => nowMs, cacheTtlMs: 60_000 });
    const made = await a.keys.create({ name: 'x' });
    for (let i = 0; i < 3; i++) await b.store.limiter.take(await b.keys.authenticate(made.key));
    expect(net.calls).toEqual({ lookups: 1, takes: 3 });
    nowMs = 60_000; // the TTL is up: looked up again
    await b.keys.authenticate(made.key);
    expect(net.calls.lookups).toBe(2);

    const cached = await b.keys.authenticate(made.key); // from the cache, still without revokedAtMs
    await a.keys.revoke(made.record.id);
    expect(cached.revokedAtMs).toBeUndefined();
    await expect(b.store.limiter.take(cached)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: `API key ${made.record.id} was revoked`,
    });
    await expect(b.store.limiter.usedToday(cached)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    // The refusal dropped the cached record: the isolate's next lookup sees the revocation itself.
    await expect(b.keys.authenticate(made.key)).rejects.toMatchObject({
      message: `API key ${made.record.id} was revoked`,
    });
    expect(net.calls.lookups).toBe(3);
  });

  it('counts one quota for all isolates', async () => {
    const net = localObjects();
    const isolates = [isolate(net.objects), isolate(net.objects), isolate(net.objects)];
    const made = await isolates[0]!.keys.create({ name: 'q', dailyQuota: 4, burst: 100 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 9 }, async (_, i) =>
        isolates[i % 3]!.store.limiter.take(await isolates[i % 3]!.keys.authenticate(made.key)),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(4);
    expect(
      outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.code),
    ).toEqual(Array(5).fill('RATE_LIMITED'));
    expect(await isolates[2]!.store.limiter.usedToday(made.record)).toBe(4);
  });

  it('adopts an operator key once however many isolates adopt it, and completes an adoption cut short', async () => {
    const net = localObjects();
    const rings = Array.from({ length: 4 }, () => isolate(net.objects).keys);
    net.failNextDirectoryWrite();
    const first = await Promise.allSettled(
      rings.map((r) => r.adopt('operator-key', { name: 'admin', role: 'admin' })),
    );
    expect(first.filter((o) => o.status === 'rejected')).toHaveLength(1);
    const ids = new Set(first.flatMap((o) => (o.status === 'fulfilled' ? [o.value.id] : [])));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect((await rings[0]!.list()).map((r) => r.id)).toEqual([id]);

    // Cut short before anyone listed it: the next adoption puts it in the directory.
    const net2 = localObjects();
    net2.failNextDirectoryWrite();
    const ring = isolate(net2.objects).keys;
    await expect(ring.adopt('operator-key', { name: 'admin', role: 'admin' })).rejects.toThrow(
      'directory unavailable',
    );
    expect(await ring.list()).toEqual([]);
    const adopted = await isolate(net2.objects).keys.adopt('operator-key', { name: 'admin', role: 'admin' });
    expect((await ring.list()).map((r) => r.id)).toEqual([adopted.id]);

    // Revoked, it stays revoked when adopted again.
    await ring.revoke(adopted.id);
    expect(
      (await isolate(net2.objects).keys.adopt('operator-key', { name: 'admin', role: 'admin' })).revokedAtMs,
    ).toBeTypeOf('number');
    await expect(isolate(net2.objects).keys.authenticate('operator-key')).rejects.toMatchObject({
      message: `API key ${adopted.id} was revoked`,
    });
  });

  it('keeps at most `cacheEntries` records, dropping the oldest', async () => {
    const net = localObjects();
    const a = isolate(net.objects);
    const b = isolate(net.objects, { cacheEntries: 2 });
    const made = await Promise.all([1, 2, 3].map((i) => a.keys.create({ name: `k${i}` })));
    for (const m of made) await b.keys.authenticate(m.key);
    expect(net.calls.lookups).toBe(3);
    await b.keys.authenticate(made[2]!.key);
    await b.keys.authenticate(made[1]!.key);
    expect(net.calls.lookups).toBe(3);
    await b.keys.authenticate(made[0]!.key); // dropped
    expect(net.calls.lookups).toBe(4);
  });

  it('looks every key up in its vault with caching off', async () => {
    const net = localObjects();
    const a = isolate(net.objects, { cacheTtlMs: 0 });
    const made = await a.keys.create({ name: 'x' });
    for (let i = 0; i < 3; i++) await a.keys.authenticate(made.key);
    expect(net.calls.lookups).toBe(3);
  });
});
