import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { MemoryOracleStore } from '../src/store/memory-store.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import type { Verdict } from '../src/store/records.ts';
import {
  foldVerdicts,
  KEPT_LOCATIONS,
  KEPT_MISCONDUCT,
  type NodeEvidence,
} from '../src/trust/node-evidence.ts';
import { standingFromEvidence } from '../src/trust/standing.ts';
import { trustFromEvidence } from '../src/trust/trust-score.ts';
import { referenceStanding, referenceTrust } from './trust-reference.ts';

const DAY = 24 * 3600_000;
const NOW = 1_700_000_000_000;
const CLAIM = { lat: 52.37, lng: 4.9, claimedAtMs: NOW - 100 * DAY };
const POLICY = { minBondBaseUnits: 0n, seasoningPasses: 2, seasoningMs: DAY, minTrust: 0 };

const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-evidence-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let files = 0;
const stores: Array<[string, () => OracleStore]> = [
  ['memory', () => new MemoryOracleStore()],
  ['SQLite', () => new SqliteOracleStore({ path: path.join(tmp, `s${files++}.db`) })],
];
const closeStore = (s: OracleStore) => (s instanceof SqliteOracleStore ? s.close() : undefined);
const evidenceOf = (store: OracleStore, nodeId: string) =>
  store.listNodeEvidence().find((e) => e.nodeId === nodeId)!;

/** The store's evidence of `nodeId` says what the reference says over the store's final log. */
function expectMatchesLog(store: OracleStore, nodeId: string, nowMs = NOW) {
  const verdicts = store.listVerdicts({ nodeId }).sort((a, b) => a.atMs - b.atMs || (a.id < b.id ? -1 : 1));
  const evidence = evidenceOf(store, nodeId);
  const trust = trustFromEvidence(evidence, nowMs);
  const { exactScore: _s, exactComponents: _c, ...reference } = referenceTrust({ verdicts, nowMs });
  expect(trust).toEqual(reference);
  const common = { bondedBaseUnits: 0n, trust: trust.score, claim: CLAIM, policy: POLICY, nowMs };
  expect(standingFromEvidence({ evidence, ...common })).toEqual(referenceStanding({ verdicts, ...common }));
  return { trust, evidence, verdicts };
}

const location = (id: string, atMs: number, status: Verdict['status'], locationTrust = 0.9): Verdict => ({
  id,
  nodeId: 'n',
  kind: 'location',
  status,
  atMs,
  details: { claim: CLAIM, locationTrust },
});
const check = (id: string, atMs: number, status: Verdict['status'], nodeId = 'n'): Verdict => ({
  id,
  nodeId,
  kind: 'spot-check',
  status,
  atMs,
});

describe.each(stores)('%s store: evidence kept with the verdicts', (_name, makeStore) => {
  it('never counts a verdict saved again twice: 3 identical saves and a changed version fold as the final log', () => {
    const store = makeStore();
    try {
      const v = check('spot:n:1', NOW - DAY, 'pass');
      store.saveVerdicts([v, check('spot:n:2', NOW - 2 * DAY, 'pass')]);
      store.saveVerdicts([v]);
      store.saveVerdicts([{ ...v }, { ...v }]);
      expect(evidenceOf(store, 'n')).toMatchObject({ verdicts: 2, ownPasses: 2, checks: { count: 2 } });
      // A forged or re-judged version under the same id replaces the old one, it does not add to it.
      store.saveVerdicts([{ ...v, status: 'fraud', atMs: NOW - 3 * DAY }]);
      const { trust, evidence, verdicts } = expectMatchesLog(store, 'n');
      expect(verdicts).toHaveLength(2);
      expect(evidence).toMatchObject({
        verdicts: 2,
        ownPasses: 1,
        ownFrauds: 1,
        checks: { count: 2, frauds: 1 },
      });
      expect(trust.reasons).toContain('spot checks 1 passed / 1 failed, 1 FRAUD');
      // A verdict re-judged under another node's name moves its evidence with it.
      store.saveVerdicts([{ ...v, nodeId: 'm', status: 'pass' }]);
      expectMatchesLog(store, 'n');
      expectMatchesLog(store, 'm');
      expect(evidenceOf(store, 'n')).toMatchObject({ verdicts: 1, ownFrauds: 0, checks: { frauds: 0 } });
    } finally {
      closeStore(store);
    }
  });

  it('refolds a node when re-judging empties a bounded list while older verdicts remain', () => {
    const store = makeStore();
    try {
      // One more location verdict than is kept; the newest are then re-judged inconclusive one by one.
      const windows = Array.from({ length: KEPT_LOCATIONS + 1 }, (_, i) =>
        location(`loc:n:${i}`, NOW - (10 - i) * DAY, i === 0 ? 'verified' : 'unverified', 0.2 + i / 10),
      );
      store.saveVerdicts(windows);
      expect(evidenceOf(store, 'n').latestLocations).toHaveLength(KEPT_LOCATIONS);
      for (const w of windows.slice(1).reverse()) {
        store.saveVerdicts([{ ...w, status: 'inconclusive' }]);
        expectMatchesLog(store, 'n');
      }
      // Only the oldest (verified) is conclusive now: it was not kept, so it came back by refolding.
      expect(evidenceOf(store, 'n').latestLocations.map((l) => l.id)).toEqual(['loc:n:0']);
      expect(trustFromEvidence(evidenceOf(store, 'n'), NOW).reasons).toContain('location VERIFIED');
      // The earliest pass, re-judged away, leaves the next earliest as the start of seasoning.
      const passes = Array.from({ length: 12 }, (_, i) => check(`spot:n:${i}`, NOW - (20 - i) * DAY, 'pass'));
      store.saveVerdicts(passes);
      for (const p of passes.slice(0, 9)) store.saveVerdicts([{ ...p, status: 'inconclusive' }]);
      expect(evidenceOf(store, 'n').firstPasses[0]!.id).toBe('spot:n:9');
      expectMatchesLog(store, 'n');
    } finally {
      closeStore(store);
    }
  });

  it('keeps O(1) memory per node whatever it floods: counts grow, lists do not', () => {
    const store = makeStore();
    try {
      const flood: Verdict[] = [];
      for (let i = 0; i < 20_000; i++) {
        const atMs = NOW - 40 * DAY + i * 60_000;
        flood.push(check(`spot:f:${i}`, atMs, i % 7 === 0 ? 'fraud' : 'pass', 'f'));
        flood.push({ id: `chal:f:${i}`, nodeId: 'f', kind: 'challenger', status: 'invalid', atMs });
        flood.push({ ...location(`loc:f:${i}`, atMs, 'verified'), nodeId: 'f' });
      }
      for (let i = 0; i < flood.length; i += 5000) store.saveVerdicts(flood.slice(i, i + 5000));
      const e = evidenceOf(store, 'f');
      expect(e).toMatchObject({ verdicts: 60_000, misconduct: 20_000 + Math.ceil(20_000 / 7) });
      expect(e.latestMisconduct).toHaveLength(KEPT_MISCONDUCT);
      expect(JSON.stringify(e).length).toBeLessThan(16_000);
      const standing = standingFromEvidence({
        evidence: e,
        bondedBaseUnits: 0n,
        trust: 1,
        claim: CLAIM,
        policy: POLICY,
        nowMs: NOW,
      });
      // All kept misconduct is recent and more exists: the count is a floor, and standing is gone.
      expect(standing.verifier).toBe(false);
      expect(standing.reasons).toContain(`${KEPT_MISCONDUCT}+ misconduct verdict(s) in the last 30 days`);
    } finally {
      closeStore(store);
    }
  });
});

describe('SQLite store: evidence is durable with the verdicts', () => {
  it('rebuilds the evidence of a data dir from before the node_evidence table, once, by folding its verdicts', () => {
    const file = path.join(tmp, 'upgrade.db');
    const verdicts = [
      check('spot:a:1', NOW - 3 * DAY, 'pass', 'a'),
      check('spot:a:2', NOW - 2 * DAY, 'fraud', 'a'),
      { ...location('loc:b:1', NOW - DAY, 'verified'), nodeId: 'b' },
    ];
    const first = new SqliteOracleStore({ path: file });
    first.saveVerdicts(verdicts);
    first.close();
    // An oracle of the previous version: the verdicts, no evidence table.
    const raw = new DatabaseSync(file);
    raw.exec('DROP TABLE node_evidence');
    raw.close();
    const upgraded = new SqliteOracleStore({ path: file });
    try {
      const byNode = (list: ReadonlyArray<Readonly<NodeEvidence>>) =>
        Object.fromEntries([...list].map((e) => [e.nodeId, e]));
      expect(byNode(upgraded.listNodeEvidence())).toEqual({
        a: foldVerdicts(verdicts.slice(0, 2), { nodeId: 'a' }),
        b: foldVerdicts(verdicts.slice(2), { nodeId: 'b' }),
      });
      expectMatchesLog(upgraded, 'a');
    } finally {
      upgraded.close();
    }
  });

  it('writes nothing of a batch that fails: neither its verdicts nor its evidence', () => {
    const store = new SqliteOracleStore({ path: path.join(tmp, 'atomic.db') });
    try {
      store.saveVerdicts([check('spot:n:1', NOW - DAY, 'pass')]);
      const before = JSON.stringify(store.listNodeEvidence());
      // JSON.stringify throws on a bigint: the second verdict fails after the first was written.
      const bad = { ...check('spot:n:3', NOW, 'pass'), details: { x: 1n } } as unknown as Verdict;
      expect(() => store.saveVerdicts([check('spot:n:2', NOW, 'fraud'), bad])).toThrow(/BigInt/);
      expect(JSON.stringify(store.listNodeEvidence())).toBe(before);
      expect(store.listVerdicts({}).map((v) => v.id)).toEqual(['spot:n:1']);
    } finally {
      store.close();
    }
  });
});
