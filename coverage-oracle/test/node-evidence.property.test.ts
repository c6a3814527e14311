import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOracleStore } from '../src/adapters/node.ts';
import { MemoryOracleStore } from '../src/store/memory-store.ts';
import type { OracleStore } from '../src/store/oracle-store.ts';
import type { Verdict, VerdictKind, VerdictStatus } from '../src/store/records.ts';
import type { NodeEvidence } from '../src/trust/node-evidence.ts';
import { standingFromEvidence, type Claim, type StandingPolicy } from '../src/trust/standing.ts';
import { exactTrustFromEvidence, trustFromEvidence } from '../src/trust/trust-score.ts';
import { referenceStanding, referenceTrust } from './trust-reference.ts';

// Random verdict logs, saved in random chunks with replacements (a small id pool: ids come back with
// other kinds, statuses, times, even nodes), queried at increasing times after each chunk: the store's
// running evidence must give what the pre-fold definitions (test/trust-reference.ts) give over the
// final log.

const DAY = 24 * 3600_000;
const T0 = 1_700_000_000_000;
const KINDS: VerdictKind[] = [
  'poc-beacon',
  'poc-witness',
  'location',
  'spot-check',
  'availability',
  'challenger',
  'node-fault',
];
const STATUSES: VerdictStatus[] = [
  'valid',
  'invalid',
  'verified',
  'unverified',
  'impossible',
  'inconclusive',
  'pass',
  'fraud',
  'up',
  'down',
  'fault',
];
const CLAIMS: Claim[] = [
  { lat: 52.37, lng: 4.9, claimedAtMs: T0 },
  { lat: 48.1, lng: 11.6 },
];
const NODES = ['a', 'b'];

const verdictArb = (maxDays: number) =>
  fc
    .record({
      id: fc.integer({ min: 0, max: 24 }).map((i) => `v${i}`),
      nodeId: fc.constantFrom(...NODES),
      kind: fc.constantFrom(...KINDS),
      status: fc.constantFrom(...STATUSES),
      // Half at one of 9 times: verdicts at the same time (the newest location's tie-break) happen.
      atMs: fc
        .oneof(
          fc.integer({ min: 0, max: maxDays * DAY }),
          fc.integer({ min: 0, max: 8 }).map((q) => Math.round((q * maxDays * DAY) / 8)),
        )
        .map((d) => T0 + d),
      reason: fc.option(fc.constantFrom('too far', 'quorum'), { nil: undefined }),
      side: fc.option(fc.constantFrom('beaconer', 'witness'), { nil: undefined }),
      role: fc.option(fc.constantFrom('checker', 'node'), { nil: undefined }),
      claim: fc.option(fc.constantFrom(...CLAIMS), { nil: undefined }),
      locationTrust: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    })
    .map(({ reason, side, role, claim, locationTrust, ...v }): Verdict => {
      const details = {
        ...(side ? { side } : {}),
        ...(role ? { role } : {}),
        ...(claim ? { claim } : {}),
        ...(locationTrust !== undefined ? { locationTrust } : {}),
      };
      return { ...v, ...(reason ? { reason } : {}), ...(Object.keys(details).length ? { details } : {}) };
    });

const scenarioArb = (maxDays: number) =>
  fc.record({
    chunks: fc.array(
      fc.record({
        verdicts: fc.array(verdictArb(maxDays), { minLength: 1, maxLength: 12 }),
        // How long after the newest verdict so far this chunk's query is (queries never go back).
        queryAfterMs: fc.integer({ min: 0, max: 90 * DAY }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    policy: fc.record({
      seasoningPasses: fc.integer({ min: 0, max: 3 }),
      seasoningMs: fc.constantFrom(0, DAY, 10 * DAY),
    }),
    claim: fc.option(fc.constantFrom(...CLAIMS), { nil: undefined }),
  });

/** Whether v sits within 1e-7 of a round3 boundary (…x.5 in thousandths), where 1e-9 apart may round apart. */
const nearRoundingEdge = (v: number) => Math.abs(Math.abs((v * 1000) % 1) - 0.5) < 1e-6;
const withoutCap = (reasons: string[]) => reasons.map((r) => (r.startsWith('capped at') ? 'capped at' : r));

function expectSameTrust(evidence: Readonly<NodeEvidence>, verdicts: Verdict[], nowMs: number): number {
  const ref = referenceTrust({ verdicts, nowMs });
  const exact = exactTrustFromEvidence(evidence, nowMs);
  const got = trustFromEvidence(evidence, nowMs);
  expect(exact.score).toBeCloseTo(ref.exactScore, 9);
  expect(Object.keys(exact.components).sort()).toEqual(Object.keys(ref.exactComponents).sort());
  for (const [k, v] of Object.entries(ref.exactComponents))
    expect(exact.components[k as keyof typeof exact.components]).toBeCloseTo(v, 9);
  if (!nearRoundingEdge(ref.exactScore)) expect(got.score).toBe(ref.score);
  for (const [k, v] of Object.entries(ref.exactComponents))
    if (!nearRoundingEdge(v))
      expect(got.components[k as keyof typeof got.components]).toBe(
        ref.components[k as keyof typeof ref.components],
      );
  // The cap's reason line rounds the cap, and appears only when the score exceeds it: compare it apart.
  expect(withoutCap(got.reasons).filter((r) => r !== 'capped at')).toEqual(
    withoutCap(ref.reasons).filter((r) => r !== 'capped at'),
  );
  const capped = (rs: string[]) => rs.some((r) => r.startsWith('capped at'));
  if (capped(got.reasons) !== capped(ref.reasons))
    expect(Math.abs(exact.score - exact.fraudCap!)).toBeLessThan(1e-9);
  expect({ v: got.locationVerified, c: got.verifiedClaim, k: got.known }).toEqual({
    v: ref.locationVerified,
    c: ref.verifiedClaim,
    k: ref.known,
  });
  return ref.score;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'hexedge-evidence-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dbCount = 0;

const evidenceJson = (store: OracleStore) =>
  JSON.stringify([...store.listNodeEvidence()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)));

/** Runs one scenario; answers the store's evidence (JSON) at the end. */
async function checkScenario(scenario: Scenario, makeStore: () => OracleStore): Promise<string> {
  const { chunks, policy, claim } = scenario;
  const store = makeStore();
  const log = new Map<string, Verdict>();
  let newestMs = T0;
  let nowMs = T0;
  const fullPolicy: StandingPolicy = { minBondBaseUnits: 10n, minTrust: 0.5, ...policy };
  try {
    for (const chunk of chunks) {
      store.saveVerdicts(chunk.verdicts);
      for (const v of chunk.verdicts) {
        log.set(v.id, v);
        newestMs = Math.max(newestMs, v.atMs);
      }
      nowMs = Math.max(nowMs, newestMs) + chunk.queryAfterMs;
      const byNode = new Map(store.listNodeEvidence().map((e) => [e.nodeId, e]));
      for (const nodeId of new Set([...log.values()].map((v) => v.nodeId)))
        expect(byNode.has(nodeId), `evidence of ${nodeId}`).toBe(true);
      for (const [nodeId, evidence] of byNode) {
        // The tie-break the fold defines (newest location first, then the smaller id) is the reference's
        // stable sort over the log in (atMs, id) order, SQLite's listing order.
        const verdicts = [...log.values()]
          .filter((v) => v.nodeId === nodeId)
          .sort((a, b) => a.atMs - b.atMs || (a.id < b.id ? -1 : 1));
        const trust = expectSameTrust(evidence, verdicts, nowMs);
        const common = { bondedBaseUnits: 10n, trust, claim, policy: fullPolicy, nowMs };
        expect(standingFromEvidence({ evidence, ...common })).toEqual(
          referenceStanding({ verdicts, ...common }),
        );
      }
    }
    return evidenceJson(store);
  } finally {
    if (store instanceof SqliteOracleStore) store.close();
  }
}

type Scenario = {
  chunks: Array<{ verdicts: Verdict[]; queryAfterMs: number }>;
  policy: { seasoningPasses: number; seasoningMs: number };
  claim: Claim | undefined;
};

describe('node evidence against the reference trust and standing', () => {
  it('memory store: random logs with replacements, chunks and increasing query times', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(60), async (s) => {
        await checkScenario(s, () => new MemoryOracleStore());
      }),
      { numRuns: 300 },
    );
  });

  it('memory store: years of evidence (decayed sums rebased past 32 half-lives)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(3 * 365), async (s) => {
        await checkScenario(s, () => new MemoryOracleStore());
      }),
      { numRuns: 150 },
    );
  });

  it('SQLite store: the same, with the evidence kept in its table and read back after reopening', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(400), async (s) => {
        const file = path.join(tmp, `p${dbCount++}.db`);
        const before = await checkScenario(s, () => new SqliteOracleStore({ path: file }));
        // Reopened: the table's rows are exactly the running evidence the checks above read.
        const again = new SqliteOracleStore({ path: file });
        try {
          expect(evidenceJson(again)).toBe(before);
        } finally {
          again.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
