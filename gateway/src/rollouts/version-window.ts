/**
 * What one model version did over a sliding window: answers (time, ok) and comparisons with the other
 * version (agreed or diverged, by how much). Bounded twice — by age (`windowMs`) and by count
 * (`MAX_WINDOW_SAMPLES` each), so a busy model costs a fixed amount of memory and a p95 is one sort of
 * at most that many numbers — and counted in total since the rollout began (promotion needs totals).
 */
export const MAX_WINDOW_SAMPLES = 2_000;

export interface VersionStats {
  /** In the window. */
  answers: number;
  errors: number;
  errorRate: number;
  /**
   * Answer times of the answers callers got (not mirrors: a mirror's time measures the extra load the
   * rollout itself puts on the version's nodes, and a caller never waits for it).
   */
  p50Ms: number | null;
  p95Ms: number | null;
  /** How many answer times the percentiles are over. */
  latencySamples: number;
  compared: number;
  diverged: number;
  divergenceRate: number;
  /** Largest finite difference seen among the window's comparisons (null: none, or only non-numeric). */
  maxDifference: number | null;
  /** Since the rollout began. */
  totalAnswers: number;
  totalErrors: number;
  totalCompared: number;
  totalDiverged: number;
}

/** A fixed-size ring of samples with their times; the oldest are dropped first. */
class Ring<T extends { atMs: number }> {
  readonly #items: T[] = [];
  #start = 0;

  push(item: T): void {
    if (this.#items.length < MAX_WINDOW_SAMPLES) this.#items.push(item);
    else {
      this.#items[this.#start] = item;
      this.#start = (this.#start + 1) % MAX_WINDOW_SAMPLES;
    }
  }

  since(fromMs: number): T[] {
    const ordered = [...this.#items.slice(this.#start), ...this.#items.slice(0, this.#start)];
    return ordered.filter((s) => s.atMs >= fromMs);
  }
}

export class VersionWindow {
  readonly #answers = new Ring<{ atMs: number; latencyMs: number; ok: boolean; mirror: boolean }>();
  readonly #comparisons = new Ring<{ atMs: number; diverged: boolean; difference: number }>();
  #totalAnswers = 0;
  #totalErrors = 0;
  #totalCompared = 0;
  #totalDiverged = 0;
  #lastOk: boolean | undefined;

  /** Answers (and failures) recorded since the rollout began. */
  get totalAnswers(): number {
    return this.#totalAnswers;
  }

  /** Whether the latest answer was a success (undefined before the first). */
  get lastOk(): boolean | undefined {
    return this.#lastOk;
  }

  answered(o: { atMs: number; latencyMs: number; ok: boolean; mirror?: boolean }): void {
    this.#lastOk = o.ok;
    this.#answers.push({ ...o, mirror: o.mirror ?? false });
    this.#totalAnswers++;
    if (!o.ok) this.#totalErrors++;
  }

  compared(o: { atMs: number; diverged: boolean; difference: number }): void {
    this.#comparisons.push(o);
    this.#totalCompared++;
    if (o.diverged) this.#totalDiverged++;
  }

  stats(o: { nowMs: number; windowMs: number }): VersionStats {
    const from = o.nowMs - o.windowMs;
    const answers = this.#answers.since(from);
    const comparisons = this.#comparisons.since(from);
    const errors = answers.filter((a) => !a.ok).length;
    // Latency of answers callers got: a failure's time says how fast it failed, not how fast it serves.
    const latencies = answers
      .filter((a) => a.ok && !a.mirror)
      .map((a) => a.latencyMs)
      .sort((a, b) => a - b);
    const diverged = comparisons.filter((c) => c.diverged).length;
    const finite = comparisons.map((c) => c.difference).filter((d) => Number.isFinite(d));
    return {
      answers: answers.length,
      errors,
      errorRate: answers.length ? errors / answers.length : 0,
      p50Ms: percentile(latencies, 0.5),
      p95Ms: percentile(latencies, 0.95),
      latencySamples: latencies.length,
      compared: comparisons.length,
      diverged,
      divergenceRate: comparisons.length ? diverged / comparisons.length : 0,
      maxDifference: finite.length ? Math.max(...finite) : null,
      totalAnswers: this.#totalAnswers,
      totalErrors: this.#totalErrors,
      totalCompared: this.#totalCompared,
      totalDiverged: this.#totalDiverged,
    };
  }
}

/** Nearest-rank percentile of sorted values (null when there are none). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
