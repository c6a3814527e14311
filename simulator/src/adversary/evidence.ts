/**
 * What the oracle holds about one node, compactly, and the verdicts it stands for. The real oracle
 * keeps every verdict; a node answering 10 requests a second has ~1800 spot checks an hour, so here
 * passes are a count, the first (seasoning counts from it) and a ring of the newest (past a few dozen
 * the spot-check component is ≥ 0.97 and barely moves). Frauds, the latest location verdict and
 * misconduct as a challenger are all kept; availability probes as a ring of the newest.
 */
import type { Verdict } from '@hexedge/coverage-oracle';

export const PASS_RING = 31;
export const AVAILABILITY_RING = 24;

export class NodeEvidence {
  passes = 0;
  firstPassAtMs: number | undefined;
  readonly #passAtMs: number[] = [];
  readonly frauds: Array<{ atMs: number; role: 'node' | 'checker'; evidenceId: string }> = [];
  location: Verdict | undefined;
  readonly #availability: Array<{ atMs: number; up: boolean }> = [];
  readonly misconductAtMs: number[] = [];

  /** Has a conclusive check of its own answers: its trust is known (no probation). */
  get known(): boolean {
    return this.passes > 0 || this.frauds.some((f) => f.role === 'node');
  }

  addPasses(count: number, atMs: number): void {
    if (count <= 0) return;
    if (this.passes === 0) this.firstPassAtMs = atMs;
    this.passes += count;
    for (let i = 0; i < Math.min(count, PASS_RING); i++) {
      this.#passAtMs.push(atMs);
      if (this.#passAtMs.length > PASS_RING) this.#passAtMs.shift();
    }
  }

  addAvailability(up: boolean, atMs: number): void {
    this.#availability.push({ atMs, up });
    if (this.#availability.length > AVAILABILITY_RING) this.#availability.shift();
  }

  /** The verdicts `computeTrust` and `standingOf` read, as the oracle's store would list them. */
  toVerdicts(nodeId: string): Verdict[] {
    const out: Verdict[] = [];
    if (this.location) out.push(this.location);
    // The first pass survives the ring: seasoning is measured from it.
    const passTimes =
      this.firstPassAtMs !== undefined && this.passes > this.#passAtMs.length
        ? [this.firstPassAtMs, ...this.#passAtMs]
        : this.#passAtMs;
    passTimes.forEach((atMs, i) =>
      out.push({
        id: `spot:${nodeId}:p${i}`,
        nodeId,
        kind: 'spot-check',
        status: 'pass',
        atMs,
        details: { role: 'node' },
      }),
    );
    this.frauds.forEach((f, i) =>
      out.push({
        id: `spot:${nodeId}:f${i}`,
        nodeId,
        kind: 'spot-check',
        status: 'fraud',
        reason: f.role === 'node' ? 'OUTPUT_MISMATCH' : 'CHECK_DISAGREED_WITH_REFEREE',
        atMs: f.atMs,
        details: { role: f.role },
      }),
    );
    this.#availability.forEach((a, i) =>
      out.push({
        id: `avail:${nodeId}:${i}`,
        nodeId,
        kind: 'availability',
        status: a.up ? 'up' : 'down',
        atMs: a.atMs,
      }),
    );
    this.misconductAtMs.forEach((atMs, i) =>
      out.push({
        id: `chal:${nodeId}:${i}`,
        nodeId,
        kind: 'challenger',
        status: 'invalid',
        reason: 'CONTRADICTED_MAJORITY',
        atMs,
      }),
    );
    return out;
  }
}
