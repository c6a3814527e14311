import { Placement } from '@hexedge/placement';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteRolloutStore } from '../src/adapters/sqlite-rollout-store.ts';
import { MemoryModelCatalog } from '../src/catalog.ts';
import { createGatewayApp } from '../src/index.ts';
import type { Caller } from '../src/infer/infer-ports.ts';
import { RolloutManager } from '../src/rollouts/rollout-manager.ts';
import { MemoryRolloutStore, type RolloutStore } from '../src/rollouts/rollout-store.ts';
import { KEY, keyRing } from './fake-nodes.ts';
import { OpenApiConformance, type OpenApiDoc } from './openapi-conformance.ts';
import {
  manifestOf,
  registerVersioned,
  versionedClient,
  versionedNode,
  type VersionBehaviour,
} from './versioned-nodes.ts';

/*
 * Rollouts through the real app and inference path (placement, failover walk, receipt checks) with
 * in-memory nodes serving model `m` in several versions: `1` (baseline) and `2` (a good build) double
 * their input, `3` (a broken build) triples it. The manager is judged by calling `evaluate()`.
 */
const HERE = { lat: 52.37, lng: 4.9 };
const GOOD = { factor: 2 };
const BROKEN = { factor: 3 };

let placement: Placement;
let tmp: string;

async function fabric(
  o: {
    candidate?: Record<string, VersionBehaviour>;
    store?: RolloutStore;
    maxInFlight?: number;
    candidatesNearest?: boolean;
  } = {},
) {
  placement = new Placement({ heartbeatIntervalMs: 60_000 });
  const catalog = new MemoryModelCatalog();
  for (const v of ['1', '2', '3']) catalog.add(manifestOf(v), new Uint8Array([1]));
  const candidate = o.candidate ?? { '2': GOOD, '3': BROKEN };
  // Two nodes hold only the baseline; two also hold the candidates (the planner's canary nodes).
  const nodes = [
    await versionedNode('http://a.test', { '1': GOOD }),
    await versionedNode('http://b.test', { '1': GOOD }),
    await versionedNode('http://c.test', { '1': GOOD, ...candidate }),
    await versionedNode('http://d.test', { '1': GOOD, ...candidate }),
  ];
  // Nearest first: a, b, c, d (or the reverse: the candidate holders nearest).
  for (const [i, n] of nodes.entries())
    await registerVersioned(placement, n, {
      lat: HERE.lat + (o.candidatesNearest ? nodes.length - i : i) * 0.001,
      lng: HERE.lng,
    });
  const client = versionedClient(nodes);
  const manager = new RolloutManager({
    store: o.store ?? new MemoryRolloutStore(),
    catalogue: catalog,
    holders: (model, version) =>
      [...placement.registry.values()].filter((n) =>
        n.models.some((m) => m.name === model && m.version === version),
      ).length,
    onPlacements: (p) => placement.setVersionPlacements(p),
  });
  const keys = await keyRing();
  const { app, service } = createGatewayApp({
    placement,
    keys,
    nodeClient: client,
    catalog,
    rollouts: manager,
    ...(o.maxInFlight ? { inFlight: { maxTotal: o.maxInFlight } } : {}),
  });
  const infer = (caller: Caller, extra: Record<string, unknown> = {}) =>
    service.infer(
      {
        model: 'm',
        location: HERE,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }],
        ...extra,
      },
      caller,
    );
  const api = (method: string, url: string, body?: unknown, key = KEY) =>
    app.request(url, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    });
  return { app, service, manager, client, nodes, keys, infer, api };
}

const callers = (n: number, prefix = 'key'): Caller[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}` }));

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'hexedge-rollouts-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('the rollout admin API', () => {
  it('creates, inspects, promotes; refuses what is wrong with errors that name the value, changing nothing', async () => {
    const f = await fabric();
    const bad = async (body: unknown, status: number, code: string, ...says: RegExp[]) => {
      const res = await f.api('POST', '/v1/rollouts', body);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status, json.error.message).toBe(status);
      expect(json.error.code).toBe(code);
      for (const s of says) expect(json.error.message).toMatch(s);
    };
    await bad(
      { model: 'm', candidate: '2', canary: { percent: 150 } },
      400,
      'INVALID_REQUEST',
      /canary\.percent/,
      /150/,
    );
    await bad(
      { model: 'm', candidate: '9' },
      400,
      'INVALID_REQUEST',
      /candidate/,
      /'9'/,
      /versions: 1, 2, 3/,
    );
    await bad({ model: 'nope', candidate: '2' }, 404, 'MODEL_NOT_FOUND', /'nope'/, /models: m/);
    await bad({ model: 'm', candidate: '2', baseline: '2' }, 400, 'INVALID_REQUEST', /both '2'/);
    await bad({ model: 'm', candidate: '2', colour: 'red' }, 400, 'INVALID_REQUEST', /colour/);
    await bad(
      { model: 'm', candidate: '2', canary: { by: 'planet' } },
      400,
      'INVALID_REQUEST',
      /canary\.by/,
      /planet/,
    );
    expect(((await (await f.api('GET', '/v1/rollouts')).json()) as { rollouts: unknown[] }).rollouts).toEqual(
      [],
    );

    const res = await f.api('POST', '/v1/rollouts', { model: 'm', candidate: '2', canary: { percent: 10 } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as {
      id: string;
      baseline: string;
      state: string;
      live: { verdict: { action: string } };
    };
    expect(created).toMatchObject({ baseline: '1', state: 'running', live: { verdict: { action: 'hold' } } });
    expect(created.id).toMatch(/^ro-[0-9a-f]{12}$/);
    await bad({ model: 'm', candidate: '3' }, 409, 'CONFLICT', new RegExp(created.id));
    expect((await f.api('PUT', '/v1/models/m/version-policy', { mode: 'latest' })).status).toBe(409);

    expect((await f.api('GET', `/v1/rollouts/${created.id}`)).status).toBe(200);
    expect((await f.api('GET', '/v1/rollouts/ro-000000000000')).status).toBe(404);
    const badId = await f.api('GET', '/v1/rollouts/DROP%20TABLE');
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { error: { message: string } }).error.message).toMatch(
      /not a rollout id: "DROP TABLE"/,
    );
    // A reason nested 30 000 deep (inside the 64 KiB limit; JSON.stringify of it overflows the stack) is named, not a 500.
    const deep = await f.app.request(`/v1/rollouts/${created.id}/promote`, {
      method: 'POST',
      body: `{"reason":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    });
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { error: { message: string } }).error.message).toBe(
      'reason must be a string of 1 to 500 characters, got an array of 1 item',
    );
    const promoted = await f.api('POST', `/v1/rollouts/${created.id}/promote`, { reason: 'looks good' });
    expect(await promoted.json()).toMatchObject({
      state: 'promoted',
      decidedBy: 'admin',
      reason: 'looks good',
    });
    const again = await f.api('POST', `/v1/rollouts/${created.id}/abort`);
    expect(again.status).toBe(409);
    expect(await (await f.api('GET', '/v1/models/m/version-policy')).json()).toMatchObject({
      mode: 'specific',
      version: '2',
    });
  });

  it('answers as /openapi.json says: every rollout and policy route, live figures and errors included', async () => {
    const f = await fabric();
    const judge = new OpenApiConformance((await (await f.app.request('/openapi.json')).json()) as OpenApiDoc);
    const call = async (method: string, url: string, body?: unknown) => {
      const { body: answer, problems } = await judge.check(
        method,
        `http://gw${url}`,
        await f.api(method, url, body),
      );
      expect(problems, `${method} ${url}`).toEqual([]);
      return answer as { id: string; live?: unknown; state?: string };
    };
    const made = await call('POST', '/v1/rollouts', { model: 'm', candidate: '2', shadow: { percent: 100 } });
    for (let i = 0; i < 8; i++) await f.infer({ id: `k${i}` });
    f.manager.evaluate();
    expect((await call('GET', `/v1/rollouts/${made.id}`)).live).toBeDefined();
    await call('GET', '/v1/rollouts?model=m&limit=5');
    await call('GET', '/v1/rollouts?limit=0');
    await call('GET', '/v1/rollouts/nope');
    await call('POST', `/v1/rollouts/${made.id}/abort`, { reason: 'conformance' });
    expect((await call('GET', `/v1/rollouts/${made.id}`)).state).toBe('rolled-back');
    await call('POST', `/v1/rollouts/${made.id}/promote`);
    await call('GET', '/v1/models/m/version-policy');
    await call('PUT', '/v1/models/m/version-policy', { mode: 'latest' });
    await call('PUT', '/v1/models/m/version-policy', { mode: 'sometimes' });
  });

  it('is for admin keys only', async () => {
    const f = await fabric();
    const made = (await (await f.api('POST', '/v1/keys', { name: 'app' })).json()) as { key: string };
    expect((await f.api('GET', '/v1/rollouts', undefined, made.key)).status).toBe(403);
    expect((await f.api('POST', '/v1/rollouts', { model: 'm', candidate: '2' }, made.key)).status).toBe(403);
    expect((await f.app.request('/v1/rollouts')).status).toBe(401);
  });

  it('sets version policies: specific pins, latest takes the newest, bad values are named', async () => {
    const f = await fabric({ candidate: { '2': GOOD } });
    const put = (body: unknown) => f.api('PUT', '/v1/models/m/version-policy', body);
    const err = async (body: unknown) =>
      ((await (await put(body)).json()) as { error: { message: string } }).error.message;
    expect(await err({ mode: 'newest' })).toMatch(/mode.*"newest"/);
    expect(await err({ mode: 'specific' })).toMatch(/version: is required/);
    expect(await err({ mode: 'specific', version: '7' })).toMatch(/'7'.*versions: 1, 2, 3/);
    expect((await f.api('PUT', '/v1/models/zzz/version-policy', { mode: 'latest' })).status).toBe(404);

    expect((await put({ mode: 'specific', version: '1' })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await f.infer({ id: 'k' })).response.model_version).toBe('1');
    // `latest` is 3, which no node serves: the caller hears which version was missing.
    expect((await put({ mode: 'latest' })).status).toBe(200);
    await expect(f.infer({ id: 'k' })).rejects.toThrow(/version '3'/);
    // A caller that names a version gets it.
    expect((await f.infer({ id: 'k' }, { version: '2' })).response.model_version).toBe('2');
  });
});

describe('canaries and mirrors', () => {
  it('sends a sticky share of callers to the candidate and everyone else to the baseline', async () => {
    const f = await fabric();
    await f.manager.create({ model: 'm', candidate: '2', canary: { percent: 25 }, shadow: { percent: 0 } });
    const seen = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++)
      for (const c of callers(200)) {
        const { response } = await f.infer(c);
        (seen.get(c.id) ?? seen.set(c.id, new Set()).get(c.id)!).add(response.model_version);
      }
    expect([...seen.values()].every((v) => v.size === 1)).toBe(true); // sticky
    const inCanary = [...seen.values()].filter((v) => v.has('2')).length;
    expect(inCanary).toBeGreaterThan(30);
    expect(inCanary).toBeLessThan(70);
    // Named principals are in the canary whatever the share; device and fleet canaries key on the device.
    await expect(f.manager.create({ model: 'm', candidate: '3' })).rejects.toThrow(
      /already has a running rollout/,
    );
    f.manager.abort(f.manager.list()[0]!.id);
    await f.manager.create({
      model: 'm',
      candidate: '2',
      canary: { percent: 0, by: 'fleet', include: ['test-fleet'] },
      shadow: { percent: 0 },
    });
    expect(
      (await f.infer({ id: 'bridge', device: { id: 'dev-1', fleet: 'test-fleet' } })).response.model_version,
    ).toBe('2');
    expect(
      (await f.infer({ id: 'bridge', device: { id: 'dev-2', fleet: 'other' } })).response.model_version,
    ).toBe('1');
    expect((await f.infer({ id: 'http-key' })).response.model_version).toBe('1'); // no fleet: baseline
  });

  it('mirrors to the candidate on another node, compares, never returns the mirror, and rolls a diverging candidate back', async () => {
    const f = await fabric();
    const r = await f.manager.create({
      model: 'm',
      candidate: '3',
      canary: { percent: 0 },
      shadow: { percent: 100 },
      thresholds: { minComparisons: 10 },
    });
    for (const c of callers(30)) {
      const { response } = await f.infer(c);
      expect(response.model_version).toBe('1');
      expect(response.outputs![0]!.data).toEqual([3]); // the baseline's answer, never the mirror's 4.5
    }
    await vi.waitFor(() => expect(f.manager.view(r.id).live!.candidate.compared).toBe(30));
    const live = f.manager.view(r.id).live!;
    expect(live.candidate).toMatchObject({ diverged: 30, divergenceRate: 1, maxDifference: 1.5 });
    expect(live.tolerance).toBe(1e-4); // the catalogue's
    // Each mirror went to a node other than the one that answered.
    expect(f.client.calls.filter((c) => c.endsWith('@3'))).toHaveLength(30);
    f.manager.evaluate();
    const after = f.manager.view(r.id);
    expect(after).toMatchObject({ state: 'rolled-back', decidedBy: 'auto' });
    expect(after.reason).toMatch(/output divergence 100\.0 % \(30 of 30/);
    expect(f.manager.getPolicy('m')).toMatchObject({ mode: 'specific', version: '1', withdrawn: ['3'] });
    const before = f.client.calls.length;
    for (const c of callers(20)) expect((await f.infer(c)).response.model_version).toBe('1');
    expect(f.client.calls.slice(before).some((c) => c.endsWith('@3'))).toBe(false);
  });

  it('sends a mirror to another node than the one that answered, even when that node is the nearest holder', async () => {
    const f = await fabric({ candidate: { '2': GOOD }, candidatesNearest: true });
    const r = await f.manager.create({
      model: 'm',
      candidate: '2',
      canary: { percent: 100 },
      shadow: { percent: 100 },
    });
    for (const c of callers(10)) expect((await f.infer(c)).response.model_version).toBe('2');
    await vi.waitFor(() => expect(f.manager.view(r.id).live!.candidate.totalCompared).toBe(10));
    // d holds both versions and is nearest: it answers as the candidate, so the baseline mirrors go elsewhere.
    const calls = f.client.calls.join(' ');
    expect(calls.match(/d\.test@2/g)).toHaveLength(10);
    expect(calls.match(/\.test@1/g)).toHaveLength(10);
    expect(calls).not.toContain('d.test@1');
  });

  it('answers a canary caller from the baseline when the candidate fails, and rolls back on the error rate', async () => {
    const f = await fabric({ candidate: { '2': { factor: 2, fail: true } } });
    const r = await f.manager.create({
      model: 'm',
      candidate: '2',
      canary: { percent: 100 },
      shadow: { percent: 0 },
      thresholds: { minSamples: 5 },
    });
    for (const c of callers(8)) expect((await f.infer(c)).response.model_version).toBe('1');
    expect(f.manager.view(r.id).live).toMatchObject({ fallbacks: 8, candidate: { errors: 8 } });
    f.manager.evaluate();
    expect(f.manager.view(r.id).reason).toMatch(/^error rate 100\.0 % \(8 of 8 answers/);
  });

  it('rolls a slow candidate back on its p95 against the baseline’s', { timeout: 20_000 }, async () => {
    const f = await fabric({ candidate: { '2': { factor: 2, delayMs: 400 } } });
    const r = await f.manager.create({
      model: 'm',
      candidate: '2',
      canary: { percent: 50 },
      shadow: { percent: 0 },
      thresholds: { minSamples: 8, p95SlackMs: 60 },
    });
    const all = callers(40);
    for (let i = 0; i < all.length; i += 10) await Promise.all(all.slice(i, i + 10).map((c) => f.infer(c)));
    f.manager.evaluate();
    const reason = f.manager.view(r.id).reason ?? '';
    expect(reason).toMatch(/^p95 \d+ ms .* is above \d+ ms \(the baseline's \d+ ms × 2 \+ 60 ms\)/);
    // The candidate answers after its 400 ms delay at the least (more on a busy machine).
    expect(Number(/^p95 (\d+) ms/.exec(reason)?.[1])).toBeGreaterThanOrEqual(400);
  });

  it('promotes a healthy candidate by itself, pins it and places it on every holder', async () => {
    const f = await fabric({ candidate: { '2': GOOD } });
    const r = await f.manager.create({
      model: 'm',
      candidate: '2',
      canary: { percent: 50, nodeShare: 0.25 },
      shadow: { percent: 100 },
      promotion: { afterMs: 0, minSamples: 10, minComparisons: 10 },
    });
    // While a canary, the planner asks one of the four holders for it (both c and d already hold it).
    const pulling = () =>
      f.nodes.filter((n) => placement.desiredModels(n.keys.nodeId).some((m) => m.version === '2')).length;
    expect(pulling()).toBe(2);
    f.manager.evaluate();
    expect(f.manager.view(r.id).live!.verdict).toMatchObject({
      action: 'hold',
      waiting: expect.stringMatching(/not answered yet/),
    });
    for (const c of callers(30)) await f.infer(c);
    await vi.waitFor(() =>
      expect(f.manager.view(r.id).live!.candidate.totalCompared).toBeGreaterThanOrEqual(10),
    );
    f.manager.evaluate();
    expect(f.manager.view(r.id).live?.verdict).toBeUndefined();
    expect(f.manager.view(r.id)).toMatchObject({
      state: 'promoted',
      decidedBy: 'auto',
      reason: expect.stringMatching(/^healthy for/),
    });
    expect(f.manager.getPolicy('m')).toMatchObject({ mode: 'specific', version: '2' });
    expect(pulling()).toBe(4);
    for (const c of callers(10)) expect((await f.infer(c)).response.model_version).toBe('2');
  });

  it('bounds mirrors: at most shadow.maxInFlight at once, none while the gateway is busy; the rest are shed', async () => {
    const f = await fabric({ candidate: { '2': { factor: 2, delayMs: 100 } } });
    const r = await f.manager.create({
      model: 'm',
      candidate: '2',
      canary: { percent: 0 },
      shadow: { percent: 100, maxInFlight: 2 },
    });
    await Promise.all(callers(12).map((c) => f.infer(c)));
    await vi.waitFor(() => expect(f.manager.view(r.id).live!.mirrorsInFlight).toBe(0));
    expect(f.client.maxInFlight.get('2')).toBe(2);
    expect(f.manager.view(r.id).live!.mirrorsShed).toBe(10);

    const busy = await fabric({ candidate: { '2': GOOD }, maxInFlight: 2 });
    const b = await busy.manager.create({
      model: 'm',
      candidate: '2',
      canary: { percent: 0 },
      shadow: { percent: 100 },
    });
    for (const c of callers(5)) await busy.infer(c); // each holds 1 of 2 slots: half the bound
    expect(busy.manager.view(b.id).live).toMatchObject({ mirrorsShed: 5, candidate: { totalAnswers: 0 } });
  });
});

describe('persistence', () => {
  it('keeps a running rollout (same id, same cohort) and a rollback’s pinned version across a restart', async () => {
    const file = path.join(tmp, 'rollouts.sqlite');
    const first = new SqliteRolloutStore({ path: file });
    const f = await fabric({ store: first });
    const r = await f.manager.create({
      model: 'm',
      candidate: '2',
      canary: { percent: 30 },
      shadow: { percent: 0 },
    });
    const before = await Promise.all(callers(40).map(async (c) => (await f.infer(c)).response.model_version));
    first.close();

    const second = new SqliteRolloutStore({ path: file });
    const g = await fabric({ store: second });
    expect(g.manager.view(r.id)).toMatchObject({
      state: 'running',
      candidate: '2',
      candidateFirstAnsweredAtMs: expect.any(Number),
    });
    const after = await Promise.all(callers(40).map(async (c) => (await g.infer(c)).response.model_version));
    expect(after).toEqual(before);
    g.manager.abort(r.id, 'test over');
    second.close();

    const third = new SqliteRolloutStore({ path: file });
    const h = await fabric({ store: third });
    expect(h.manager.view(r.id)).toMatchObject({ state: 'rolled-back', reason: 'test over' });
    expect(h.manager.getPolicy('m')).toMatchObject({ mode: 'specific', version: '1', withdrawn: ['2'] });
    third.close();
  });
});
