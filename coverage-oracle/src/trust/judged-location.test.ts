import { describe, expect, it } from 'vitest';
import type { Verdict } from '../store/records.ts';
import { judgedLocation, LOCATION_HOLD_MS } from './judged-location.ts';
import { foldVerdicts, KEPT_LOCATIONS } from './node-evidence.ts';
import { computeTrust } from './trust-score.ts';
import { standingOf } from './standing.ts';

const NOW = 50 * 24 * 3600_000;
const CLAIM = { lat: 52.37, lng: 4.9, claimedAtMs: NOW - 3600_000 };
const MOVED = { lat: 48.14, lng: 11.58, claimedAtMs: NOW - 60_000 };
let n = 0;
const loc = (
  status: Verdict['status'],
  atMs: number,
  o: { reason?: string; claim?: typeof CLAIM; locationTrust?: number } = {},
): Verdict => ({
  id: `l${n++}`,
  nodeId: 'x',
  kind: 'location',
  status,
  atMs,
  ...(o.reason ? { reason: o.reason } : {}),
  details: { claim: o.claim ?? CLAIM, locationTrust: o.locationTrust ?? (status === 'verified' ? 0.9 : 0.2) },
});
const verified = (atMs: number, claim = CLAIM) => loc('verified', atMs, { reason: 'VERIFIED', claim });
const uncertain = (atMs: number, claim = CLAIM) =>
  loc('unverified', atMs, { reason: 'TOO_UNCERTAIN', claim });
const judged = (verdicts: Verdict[]) => judgedLocation(foldVerdicts(verdicts).latestLocations, NOW);

describe('the location verdict that counts (judgedLocation)', () => {
  it('holds a verified proof through rounds too uncertain to judge the same claim', () => {
    const proof = verified(NOW - 120_000);
    const got = judged([proof, uncertain(NOW - 60_000), uncertain(NOW - 1_000)]);
    expect(got).toEqual({
      location: expect.objectContaining({ id: proof.id, status: 'verified' }),
      heldThrough: 2,
    });
  });

  it('lets the newest verdict count when it contradicts (impossible), judges another claim, or the proof is too old', () => {
    expect(
      judged([verified(NOW - 120_000), loc('impossible', NOW - 1_000, { reason: 'CLAIM_OUTSIDE_BOUND' })])
        ?.location.status,
    ).toBe('impossible');
    expect(judged([verified(NOW - 120_000), uncertain(NOW - 1_000, MOVED)])?.location).toMatchObject({
      status: 'unverified',
      claim: MOVED,
    });
    expect(judged([verified(NOW - LOCATION_HOLD_MS - 1), uncertain(NOW - 1_000)])?.location.status).toBe(
      'unverified',
    );
    expect(judged([verified(NOW - LOCATION_HOLD_MS), uncertain(NOW - 1_000)])?.location.status).toBe(
      'verified',
    );
  });

  it('gives way after enough uncertain rounds in a row to push the proof out of the kept verdicts', () => {
    const rounds = Array.from({ length: KEPT_LOCATIONS }, (_, i) => uncertain(NOW - 10_000 + i));
    expect(judged([verified(NOW - 60_000), ...rounds])?.location.status).toBe('unverified');
    expect(judged([verified(NOW - 60_000), ...rounds.slice(1)])?.location.status).toBe('verified');
  });

  it('an uncertain round between two others of another kind does not reach back past them', () => {
    // verified (old) → inconclusive is not kept; unverified for another reason is a real verdict.
    const other = loc('unverified', NOW - 30_000, { reason: 'SOMETHING_ELSE' });
    expect(judged([verified(NOW - 60_000), other, uncertain(NOW - 1_000)])?.location.status).toBe(
      'unverified',
    );
  });

  it('trust and standing read it: one slow round no longer takes a verified location away', () => {
    const verdicts = [
      ...Array.from({ length: 3 }, (_, i) => ({
        id: `p${i}`,
        nodeId: 'x',
        kind: 'spot-check' as const,
        status: 'pass' as const,
        atMs: NOW - 3000 + i,
        details: { own: true },
      })),
      verified(NOW - 120_000),
      uncertain(NOW - 1_000),
    ];
    const trust = computeTrust({ verdicts, nowMs: NOW });
    expect(trust.locationVerified).toBe(true);
    expect(trust.verifiedClaim).toEqual(CLAIM);
    expect(trust.reasons.join('; ')).toContain(
      'location VERIFIED (VERIFIED), held through 1 round(s) too uncertain to judge',
    );
    const standing = standingOf({
      verdicts,
      bondedBaseUnits: 1n,
      trust: 0.9,
      claim: CLAIM,
      policy: { minBondBaseUnits: 1n, seasoningPasses: 0, seasoningMs: 0, minTrust: 0.5 },
      nowMs: NOW,
    });
    expect(standing.reasons).toContain('location verified');
  });
});
