// API keys on the Worker are one system, not one per isolate: two workers running the same bundle in
// workerd (two isolates: their own app, key cache and usage book) share the Durable Objects that hold
// keys, revocations, token buckets and daily counts, as a deployment's isolates do.
import type { Miniflare } from 'miniflare';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker, startWorker } from './worker-harness.ts';

const ADMIN = 'worker-keys-test-admin-key';
const NEAREST = '/v1/nodes/nearest?lat=48.85&lng=2.35&k=1';

interface KeyView {
  id: string;
  name: string;
  role: string;
  revokedAtMs?: number;
}
type Call = (p: string, init?: { method?: string; key?: string; body?: unknown }) => Promise<Response>;

describe('API keys across isolates of the Worker (workerd)', () => {
  let bundle: ReturnType<typeof bundleWorker>;
  let persistDir: string;
  let mf: Miniflare;
  let a: Call;
  let b: Call;

  const start = async () => {
    mf = startWorker({
      scriptPath: bundle.scriptPath,
      persistDir,
      isolates: 2,
      bindings: { HEXEDGE_API_KEY: ADMIN },
    });
    const via =
      (name: string): Call =>
      async (p, init = {}) => {
        const worker = await mf.getWorker(name);
        const headers: Record<string, string> = { authorization: `Bearer ${init.key ?? ADMIN}` };
        if (init.body !== undefined) headers['content-type'] = 'application/json';
        return (await worker.fetch(`http://gw${p}`, {
          method: init.method ?? 'GET',
          headers,
          ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        })) as unknown as Response;
      };
    a = via('gateway');
    b = via('gateway-2');
  };
  const createKey = async (via: Call, spec: Record<string, unknown>) => {
    const res = await via('/v1/keys', { method: 'POST', body: spec });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as KeyView & { key: string };
  };
  const list = async (via: Call) => ((await (await via('/v1/keys')).json()) as { keys: KeyView[] }).keys;
  const errorOf = async (res: Response) =>
    ((await res.json()) as { error: { code: string; message: string } }).error;

  beforeAll(async () => {
    bundle = bundleWorker(path.resolve(import.meta.dirname, 'worker-test-entry.ts'));
    persistDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-worker-keys-'));
    await start();
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
    bundle?.cleanup();
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  });

  it('runs the two workers in separate isolates', async () => {
    const idOf = async (via: Call) =>
      ((await (await via('/__test/isolate')).json()) as { isolateId: string }).isolateId;
    const [idA, idB] = [await idOf(a), await idOf(b)];
    expect(idA).toMatch(/^[0-9a-f-]{36}$/);
    expect(idB).not.toBe(idA);
    expect(await idOf(a)).toBe(idA); // and each keeps its module state between requests
  });

  it('adopts the admin secret once, whichever isolates adopt it', async () => {
    const [fromA, fromB] = await Promise.all([a(NEAREST), b(NEAREST)]);
    expect([fromA.status, fromB.status]).toEqual([200, 200]);
    const admins = (await list(a)).filter((k) => k.name === 'worker admin');
    expect(admins).toHaveLength(1);
    expect(admins[0]!.role).toBe('admin');
    expect((await list(b)).filter((k) => k.name === 'worker admin')).toEqual(admins);
  });

  it('accepts a key made through one isolate in the other at once', async () => {
    const made = await createKey(a, { name: 'made-in-a' });
    expect((await b(NEAREST, { key: made.key })).status).toBe(200);
    expect((await list(b)).map((k) => k.id)).toContain(made.id);
    const usage = (await (await b('/v1/usage', { key: made.key })).json()) as {
      key: { id: string; usedToday: number };
    };
    expect(usage.key).toMatchObject({ id: made.id, usedToday: 1 });
  });

  it('refuses a key revoked through one isolate in the other on the very next request', async () => {
    const made = await createKey(a, { name: 'to-revoke' });
    // B has looked the key up (and cached its record) before the revocation.
    for (let i = 0; i < 3; i++) expect((await b(NEAREST, { key: made.key })).status).toBe(200);
    expect((await b('/v1/usage', { key: made.key })).status).toBe(200);
    const revoked = await a(`/v1/keys/${made.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as KeyView).revokedAtMs).toBeTypeOf('number');

    const next = await b(NEAREST, { key: made.key });
    expect(next.status).toBe(401);
    expect((await errorOf(next)).message).toBe(`API key ${made.id} was revoked`);
    expect((await b('/v1/usage', { key: made.key })).status).toBe(401);
    expect((await a(NEAREST, { key: made.key })).status).toBe(401);
    expect((await list(b)).find((k) => k.id === made.id)?.revokedAtMs).toBeTypeOf('number');
  });

  it('enforces a daily quota spent across both isolates in total, under concurrency', async () => {
    const made = await createKey(a, { name: 'quota-6', dailyQuota: 6, burst: 100 });
    const calls = Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b)(NEAREST, { key: made.key }));
    const answers = await Promise.all(calls);
    expect(answers.filter((r) => r.status === 200)).toHaveLength(6);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused).toHaveLength(6);
    expect((await errorOf(refused[0]!)).message).toBe(
      `daily quota of 6 requests used up for key ${made.id}; resets at 00:00 UTC`,
    );
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    for (const via of [a, b]) {
      const usage = (await (await via('/v1/usage', { key: made.key })).json()) as {
        key: { usedToday: number };
      };
      expect(usage.key.usedToday).toBe(6);
    }
  });

  it('enforces a burst across both isolates too', async () => {
    const made = await createKey(b, { name: 'burst-3', burst: 3, ratePerSecond: 0.01 });
    const statuses = [];
    for (const via of [a, b, a, b]) statuses.push((await via(NEAREST, { key: made.key })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('leaves no tables behind for keys nobody made (a sprayed key reaches an object of its own)', async () => {
    // Miniflare keeps one SQLite file per object it instantiated; what matters is what is in it.
    const vaultDir = path.join(persistDir, 'do', 'gateway-ApiKeyVault');
    const files = () =>
      new Set(readdirSync(vaultDir).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite'));
    const tablesIn = (file: string) => {
      const db = new DatabaseSync(path.join(vaultDir, file), { readOnly: true });
      try {
        return (
          db
            .prepare(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
            )
            .all() as { name: string }[]
        )
          .map((r) => r.name)
          .sort();
      } finally {
        db.close();
      }
    };
    const before = files();
    for (let i = 0; i < 5; i++) {
      const res = await b(NEAREST, { key: `hx_guess${i}_${'x'.repeat(43)}` });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toBe('API key is not valid');
    }
    const sprayed = [...files()].filter((f) => !before.has(f));
    expect(sprayed).toHaveLength(5);
    for (const f of sprayed) expect(tablesIn(f)).toEqual([]);
    // The check can see tables: a real key's object has them.
    expect([...before].map(tablesIn)).toContainEqual(['api_key', 'bucket']);
  });

  it('keeps keys, counts and revocations across a restart; a revoked admin secret is not adopted again', async () => {
    const quota = (await list(a)).find((k) => k.name === 'quota-6')!;
    const second = await createKey(a, { name: 'second admin', role: 'admin' });
    const kept = await createKey(b, { name: 'kept' });
    const adminId = (await list(a)).find((k) => k.name === 'worker admin')!.id;
    expect((await b(`/v1/keys/${adminId}`, { method: 'DELETE', key: second.key })).status).toBe(200);
    expect((await a(NEAREST)).status).toBe(401);

    await mf.dispose();
    await start(); // fresh isolates adopt HEXEDGE_API_KEY again
    for (const via of [a, b]) {
      const res = await via(NEAREST);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toBe(`API key ${adminId} was revoked`);
      expect((await via(NEAREST, { key: kept.key })).status).toBe(200);
    }
    const keys = ((await (await b('/v1/keys', { key: second.key })).json()) as { keys: KeyView[] }).keys;
    expect(keys.filter((k) => k.name === 'worker admin')).toEqual([
      expect.objectContaining({ id: adminId, revokedAtMs: expect.any(Number) }),
    ]);
    expect(keys.find((k) => k.id === quota.id)).toBeDefined();
  }, 60_000);
});
