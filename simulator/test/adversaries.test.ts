/**
 * Issue 16's adversary simulation at its quick size (2000 identities, 30 % sybils, two simulated
 * hours, and the same run without them): the goal rows, so a regression in the trust, standing,
 * stake, spot-check, placement or reward code the run drives fails here. The rows are written to
 * test-artifacts/simulate-adversaries-quick.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADVERSARY_GOALS,
  adversaryRows,
  formatTable,
  simulateAdversaries,
  type AdversaryReport,
  type BenchRow,
} from '../src/index.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

let report: AdversaryReport;
let rows: BenchRow[];
const rowOf = (start: string) => {
  const r = rows.find((x) => x.name.startsWith(start));
  if (!r) throw new Error(`no row "${start}…" in:\n${rows.map((x) => x.name).join('\n')}`);
  return r;
};

// Two runs of 2000 nodes for two simulated hours and 200 cheaters' receipts through isSampled: ~40 s
// on two shared cores (keys, signed registrations, the event loops).
describe('adversary simulation (quick)', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    report = await simulateAdversaries({
      nodes: 2000,
      hours: 2,
      seed: 1,
      sampledRequests: 8000,
      detectionCheaters: 200,
    });
    rows = adversaryRows(report);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'simulate-adversaries-quick.json'), JSON.stringify({ rows }, null, 2));
    console.log(formatTable(rows));
  }, 240_000);

  it('runs every attack: the sybils are there, and each attack is tried', () => {
    const m = report.adversarial.adversary!.metrics;
    expect(report.adversarial.nodes.filter((n) => n.role !== undefined).length).toBe(600);
    expect(report.baseline.nodes.some((n) => n.role !== undefined)).toBe(false);
    // The same honest nodes in both runs.
    expect(report.baseline.nodes.slice(0, 1400).map((n) => n.id)).toEqual(
      report.adversarial.nodes.slice(0, 1400).map((n) => n.id),
    );
    expect(m.convictions.get('liar')).toBeGreaterThan(20);
    expect(m.convictions.get('cheat1')).toBeGreaterThan(10);
    expect(m.grinds).toBeGreaterThan(5);
    expect(m.stickyMoves).toBeGreaterThan(2);
    expect(total(m.evictReports)).toBeGreaterThan(50);
    expect(m.washRequests).toBeGreaterThan(0);
    expect(report.adversarial.metrics.failover.relay.hit).toBeGreaterThan(0);
  });

  it('slashes no honest node, and convicts every framing checker the referee saw', () => {
    expect(rowOf('honest nodes slashed').value).toBe(ADVERSARY_GOALS.honestSlashed);
    expect(rowOf('frame: honest nodes convicted').value).toBe(0);
    const m = report.adversarial.adversary!.metrics;
    expect(m.checkerFrauds.get('honest') ?? 0).toBe(0);
    // Sleepers are drawn and try: each attempt sends the sample to the referee, which convicts them.
    expect(m.checkerFrauds.get('sleeper') ?? 0).toBeGreaterThanOrEqual(Math.min(1, m.frameAttempts));
  });

  it("keeps honest nodes' traffic and rewards within 2 % of the run without adversaries", () => {
    for (const name of ["honest nodes' share of traffic", "honest nodes' share of rewards"]) {
      const r = rowOf(name);
      expect(r.met, `${name}: ${r.value} vs ${r.anchorValue}`).toBe(true);
      expect(r.anchorValue! - r.value).toBeLessThanOrEqual(ADVERSARY_GOALS.honestShareWithinPct);
    }
  });

  it('serves under 0.1 % of traffic from dishonest nodes after the first hour (as far as ~3000 sampled requests resolve it)', () => {
    const after = rowOf("dishonest nodes' traffic share after one hour");
    const served = after.anchorValue!;
    expect(served).toBeGreaterThan(2000);
    // One sampled request is 0.03 % here: the count must be what a share under 0.1 % gives, with
    // three standard deviations of sampling error (the 100k run meets the goal outright: SECURITY.md).
    // The residue is 1 % cheaters at their local night, serving too few requests to be sampled yet.
    const goalCount = (ADVERSARY_GOALS.dishonestShareAfterHourPct / 100) * served;
    const dishonestCount = Math.round((after.value / 100) * served);
    expect(dishonestCount).toBeLessThanOrEqual(goalCount + 3 * Math.sqrt(goalCount));
    // The first hour had some: the attack ran.
    expect(rowOf("dishonest nodes' traffic share, first hour").value).toBeGreaterThan(0);
  });

  it('pays dishonest nodes under 0.1 % of the rewards after the first hour', () => {
    const r = rowOf("dishonest nodes' share of rewards after one hour");
    expect(r.value).toBeLessThan(ADVERSARY_GOALS.dishonestShareAfterHourPct);
    expect(r.met).toBe(true);
  });

  it('detects a node cheating on 1 % of its requests within an epoch at the computed rate, as isSampled measures it', () => {
    const [atWorld, small] = report.detection;
    const { samplingRate } = report.adversarial.adversary!.oracle.config;
    expect(atWorld!.computed * 100).toBeGreaterThanOrEqual(ADVERSARY_GOALS.detectionPct);
    // At 10 000 requests an epoch: 1 − (1 − p)^100 computed (p·q, q ≈ 1).
    expect(small!.computed).toBeCloseTo(1 - (1 - samplingRate) ** 100, 2);
    // Measured within its sampling error of the computed figure (200 cheaters cannot resolve 99.9 %).
    for (const d of [atWorld!, small!]) expectWithinSamplingError(d);
    // Every cheater whose sampled cheat was not passed by colluders was convicted on it.
    expect(small!.sampledReceipts).toBeGreaterThanOrEqual(small!.detected);
  });

  it('catches a cheater that answers honestly where it guesses a spot check as often as one that does not guess', () => {
    const guesser = report.detection.find((d) => d.guess)!;
    // It did give up the cheats its guess marked (at about the sampling rate)…
    expect(guesser.guessedSampled).toBeGreaterThan(0);
    // …and the secret seed sampled the others anyway: detected as a plain cheater is.
    expectWithinSamplingError(guesser);
    expect(guesser.detected / guesser.cheaters).toBeGreaterThan(0.99);
  });

  it('keeps moved claims unverified, refuses every unsolicited report, and makes wash trading cost more than it earns', () => {
    expect(rowOf('sticky: moved sybils marked verified').value).toBe(0);
    expect(rowOf('evict: unsolicited sybil reports refused').met).toBe(true);
    expect(rowOf('wash: rewards earned − fees paid').value).toBeLessThan(0);
    expect(rowOf('relay: walks that met a relay').value).toBeGreaterThan(0);
  });

  it("spends at most 3 % of inference compute on verification with one refereed checker per sample, the oracle's defaults", () => {
    // 2.5 % sampled × (1 checker + 5 % audits + disputes, which the referee settles) ≈ 2.6 %.
    const r = rowOf('verification compute / inference compute (');
    expect(r.met, `${r.value} %`).toBe(true);
    expect(r.value).toBeGreaterThan(2.4);
    expect(r.value).toBeLessThanOrEqual(ADVERSARY_GOALS.verificationSharePct);
    // The run used the oracle's shipped defaults, so production spends what was measured:
    // 2.5 % × (1 checker + 5 % audits) = 2.625 % computed, disputes left out (SECURITY.md).
    expect(r.name).toContain('(sampling 0.025, 1 checker(s), audits 0.05)');
    const d = rowOf("verification compute / inference compute at the oracle's defaults");
    expect(d.value).toBeCloseTo(2.625, 5);
    expect(d.met).toBe(true);
  });
});

function expectWithinSamplingError(d: AdversaryReport['detection'][number]): void {
  const sd = Math.sqrt((d.computed * (1 - d.computed)) / d.cheaters);
  expect(Math.abs(d.detected / d.cheaters - d.computed)).toBeLessThan(4 * sd + 0.005);
}

function total(m: Map<unknown, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}
