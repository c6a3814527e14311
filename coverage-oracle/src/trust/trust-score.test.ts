import { describe, expect, it } from 'vitest';
import { MemoryOracleStore } from '../store/memory-store.ts';
import type { Verdict } from '../store/records.ts';
import { StakeLedger } from '../stake/stake-ledger.ts';
import { CoverageMap } from '../coverage/coverage-map.ts';
import { computeTrust, PRIOR_TRUST, TRUST_HALF_LIFE_MS } from './trust-score.ts';

const NOW = 10 * TRUST_HALF_LIFE_MS;
const v = (
  kind: Verdict['kind'],
  status: Verdict['status'],
  atMs = NOW,
  details?: Record<string, unknown>,
): Verdict => ({
  id: `${kind}${status}${atMs}${Math.random()}`,
  nodeId: 'n',
  kind,
  status,
  atMs,
  ...(details ? { details } : {}),
});

describe('computeTrust', () => {
  it('is unknown without verified work of its own, and rises with good evidence from every source', () => {
    expect(computeTrust({ verdicts: [], nowMs: NOW })).toMatchObject({
      known: false,
      reasons: [expect.stringMatching(/^unknown/)],
    });
    // Location and availability alone say nothing of its answers: still unknown (on probation).
    expect(
      computeTrust({
        verdicts: [v('location', 'verified', NOW, { locationTrust: 0.95 }), v('availability', 'up')],
        nowMs: NOW,
      }).known,
    ).toBe(false);
    const good = [
      v('location', 'verified', NOW, { locationTrust: 0.95 }),
      ...Array.from({ length: 10 }, () => v('poc-witness', 'valid')),
      ...Array.from({ length: 10 }, () => v('spot-check', 'pass')),
      ...Array.from({ length: 10 }, () => v('availability', 'up')),
    ];
    const trust = computeTrust({ verdicts: good, nowMs: NOW });
    expect(trust.score).toBeGreaterThan(0.85);
    expect(trust.locationVerified).toBe(true);
    expect(trust.known).toBe(true);
    expect(trust.reasons).toHaveLength(4);
  });

  it('decays old evidence back towards the prior', () => {
    const fresh = computeTrust({
      verdicts: Array.from({ length: 10 }, () => v('availability', 'down')),
      nowMs: NOW,
    }).score;
    const old = computeTrust({
      verdicts: Array.from({ length: 10 }, () => v('availability', 'down', NOW - 3 * TRUST_HALF_LIFE_MS)),
      nowMs: NOW,
    }).score;
    expect(fresh).toBeLessThan(old);
    expect(old).toBeLessThan(PRIOR_TRUST);
  });

  it('caps trust after fraud, and an impossible location scores zero', () => {
    const verdicts = [...Array.from({ length: 50 }, () => v('availability', 'up')), v('spot-check', 'fraud')];
    expect(computeTrust({ verdicts, nowMs: NOW }).score).toBeLessThanOrEqual(0.1);
    expect(computeTrust({ verdicts: [v('location', 'impossible')], nowMs: NOW }).components.location).toBe(0);
  });
});

describe('StakeLedger', () => {
  it('bonds, slashes with evidence, and never slashes the same evidence twice', () => {
    const ledger = new StakeLedger({ store: new MemoryOracleStore() });
    expect(ledger.bond({ nodeId: 'n', amountBaseUnits: 1001n, atMs: 1 })).toBe(1001n);
    expect(ledger.slash({ nodeId: 'n', evidenceId: 'e1', evidence: { why: 'x' }, atMs: 2 })).toEqual({
      slashed: true,
      amountBaseUnits: 500n,
      balanceBaseUnits: 501n,
    });
    expect(ledger.slash({ nodeId: 'n', evidenceId: 'e1', evidence: { why: 'x' }, atMs: 3 })).toEqual({
      slashed: false,
      amountBaseUnits: 0n,
      balanceBaseUnits: 501n,
    });
    expect(ledger.balanceOf('n')).toBe(501n);
    expect(() => ledger.bond({ nodeId: 'n', amountBaseUnits: -1n, atMs: 4 })).toThrow(/positive/);
    expect(() => ledger.unbond({ nodeId: 'n', amountBaseUnits: 502n, atMs: 4 })).toThrow(/501/);
  });
});

describe('CoverageMap', () => {
  it('aggregates per res-8 hex and answers by cell, coarse cell or point', () => {
    const map = new CoverageMap();
    const cell12 = '8c1969714860dff';
    map.add([
      { cell: cell12, nodeId: 'a', source: 'poc', signalDbm: -110, atMs: 1 },
      { cell: cell12, nodeId: 'a', source: 'uplink', signalDbm: -100, atMs: 2 },
      { cell: cell12, nodeId: 'b', source: 'poc', signalDbm: -120, atMs: 3 },
    ]);
    const [hex] = map.query({ cell: cell12 });
    expect(hex!.nodes.map((n) => [n.nodeId, n.bestSignalDbm, n.meanSignalDbm, n.observations])).toEqual([
      ['a', -100, -105, 2],
      ['b', -120, -120, 1],
    ]);
    expect(map.query({ cell: '871969714ffffff' }).length).toBeLessThanOrEqual(1);
    expect(() => map.query({ cell: 'nope' })).toThrow(expect.objectContaining({ code: 'INVALID_CELL' }));
    expect(() => map.query({ cell: '8119bffffffffff' })).toThrow(/res ≥ 5/);
  });
});
