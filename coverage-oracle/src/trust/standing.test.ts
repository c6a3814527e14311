import { describe, expect, it } from 'vitest';
import type { Verdict } from '../store/records.ts';
import { MISCONDUCT_MEMORY_MS, standingOf, type StandingPolicy } from './standing.ts';

const NOW = 100 * 24 * 3600_000;
const DAY = 24 * 3600_000;
const CLAIM = { lat: 52.37, lng: 4.9, claimedAtMs: NOW - 10 * DAY };
const POLICY: StandingPolicy = {
  minBondBaseUnits: 1000n,
  seasoningPasses: 3,
  seasoningMs: DAY,
  minTrust: 0.5,
};
let n = 0;
const v = (
  kind: Verdict['kind'],
  status: Verdict['status'],
  atMs: number,
  details: Record<string, unknown> = {},
): Verdict => ({ id: `v${n++}`, nodeId: 'x', kind, status, atMs, details });
const seasoned = [
  v('spot-check', 'pass', NOW - 2 * DAY),
  v('spot-check', 'pass', NOW - DAY),
  v('spot-check', 'pass', NOW - 1),
];
const located = v('location', 'verified', NOW - 1000, { claim: CLAIM });
const standing = (verdicts: Verdict[], extra: Partial<Parameters<typeof standingOf>[0]> = {}) =>
  standingOf({
    verdicts,
    bondedBaseUnits: 1000n,
    trust: 0.8,
    claim: CLAIM,
    policy: POLICY,
    nowMs: NOW,
    ...extra,
  });

describe('standing', () => {
  it('needs stake, seasoning over time, a verified location for the current claim, trust and no misconduct', () => {
    expect(standing([...seasoned, located])).toMatchObject({ verifier: true, known: true, passes: 3 });
    // A fresh identity: nothing.
    expect(
      standingOf({
        verdicts: [],
        bondedBaseUnits: 0n,
        trust: undefined,
        claim: CLAIM,
        policy: POLICY,
        nowMs: NOW,
      }),
    ).toMatchObject({ verifier: false, known: false });
    expect(standing([...seasoned, located], { bondedBaseUnits: 999n }).verifier).toBe(false);
    // Three passes within the last hour are not a day of seasoning; checks as a checker do not count.
    const quick = [1, 2, 3].map((i) => v('spot-check', 'pass', NOW - i * 1000));
    expect(standing([...quick, located]).verifier).toBe(false);
    const asChecker = [1, 2, 3].map((i) => v('spot-check', 'pass', NOW - i * DAY, { role: 'checker' }));
    expect(standing([...asChecker, located]).verifier).toBe(false);
    // The verified claim was the old place; the node claims another now.
    expect(
      standing([...seasoned, located], { claim: { ...CLAIM, lat: 48.1, claimedAtMs: NOW - DAY } }).verifier,
    ).toBe(false);
    expect(
      standing([...seasoned, located, v('location', 'impossible', NOW - 10, { claim: CLAIM })]).verifier,
    ).toBe(false);
    expect(standing([...seasoned, located], { trust: 0.4 }).verifier).toBe(false);
  });

  it('loses standing on misconduct as a checker or challenger, for a month', () => {
    const lied = v('spot-check', 'fraud', NOW - DAY, { role: 'checker' });
    expect(standing([...seasoned, located, lied]).verifier).toBe(false);
    const contradicted = v('challenger', 'invalid', NOW - DAY);
    expect(standing([...seasoned, located, contradicted]).verifier).toBe(false);
    expect(
      standing([...seasoned, located, { ...contradicted, atMs: NOW - MISCONDUCT_MEMORY_MS - 1 }]).verifier,
    ).toBe(true);
  });
});
