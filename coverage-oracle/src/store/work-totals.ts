import type { WorkRecord, WorkStatus } from './records.ts';

/**
 * Running totals of the work the verify stage kept, per second of arrival, so a question about an
 * epoch's work (PoSP's reward per request and verification share) costs O(seconds in the epoch), not
 * O(receipts): at 1 700 answers a second an epoch holds six million work records, and reading them per
 * public `GET /v1/oracle/posp` let anyone stall the oracle. The stores add to these totals in the same
 * write as the work rows, and only for rows they really inserted (work is idempotent by receipt hash).
 */
export interface WorkTotals {
  /** Work records kept. */
  requests: number;
  /** Of them, those that earn (`isRewardedWork`: unchecked or passed). */
  rewardedRequests: number;
  /** The nodes' own service times (inference compute), ms. */
  inferenceMs: number;
  /** Verification compute: checkers' service times and the referee's runs, ms. */
  checkerMs: number;
  refereeMs: number;
}

/**
 * One bucket per second: epochs start at multiples of `epochMs` (≥ 1 000 ms), so any epoch is whole
 * buckets plus at most two partial ones at its edges, which the stores total from their work rows.
 */
export const WORK_TOTALS_BUCKET_MS = 1000;

export const emptyWorkTotals = (): WorkTotals => ({
  requests: 0,
  rewardedRequests: 0,
  inferenceMs: 0,
  checkerMs: 0,
  refereeMs: 0,
});

/** Whether a work record earns: unchecked or passed (a receipt from before statuses counts as unchecked). */
export const isRewardedStatus = (status: WorkStatus | undefined) =>
  status === undefined || status === 'unchecked' || status === 'pass';

export const bucketOf = (atMs: number) => Math.floor(atMs / WORK_TOTALS_BUCKET_MS);

export function addWork(into: WorkTotals, w: WorkRecord): WorkTotals {
  into.requests += 1;
  if (isRewardedStatus(w.status)) into.rewardedRequests += 1;
  into.inferenceMs += w.serviceTimeMs ?? 0;
  into.checkerMs += w.checkerMs ?? 0;
  into.refereeMs += w.refereeMs ?? 0;
  return into;
}

export function addTotals(into: WorkTotals, more: WorkTotals): WorkTotals {
  into.requests += more.requests;
  into.rewardedRequests += more.rewardedRequests;
  into.inferenceMs += more.inferenceMs;
  into.checkerMs += more.checkerMs;
  into.refereeMs += more.refereeMs;
  return into;
}

/** The work records just inserted, totalled per bucket (what a store adds in the same write). */
export function totalsByBucket(inserted: readonly WorkRecord[]): Map<number, WorkTotals> {
  const byBucket = new Map<number, WorkTotals>();
  for (const w of inserted) {
    const bucket = bucketOf(w.atMs);
    let t = byBucket.get(bucket);
    if (!t) byBucket.set(bucket, (t = emptyWorkTotals()));
    addWork(t, w);
  }
  return byBucket;
}

/**
 * [sinceMs, untilMs) as whole buckets plus the partial edges a store totals from its rows:
 * `whole` is [firstBucket, endBucket) of buckets entirely inside; `edges` the ms ranges outside them.
 */
export function splitRange(range: { sinceMs: number; untilMs: number }): {
  whole: { firstBucket: number; endBucket: number };
  edges: Array<{ sinceMs: number; untilMs: number }>;
} {
  const { sinceMs, untilMs } = range;
  const firstBucket = Math.ceil(sinceMs / WORK_TOTALS_BUCKET_MS);
  const endBucket = Math.max(firstBucket, Math.floor(untilMs / WORK_TOTALS_BUCKET_MS));
  const wholeStartMs = firstBucket * WORK_TOTALS_BUCKET_MS;
  const wholeEndMs = endBucket * WORK_TOTALS_BUCKET_MS;
  if (wholeStartMs >= untilMs) return { whole: { firstBucket, endBucket: firstBucket }, edges: [range] };
  const edges = [];
  if (sinceMs < wholeStartMs) edges.push({ sinceMs, untilMs: wholeStartMs });
  if (wholeEndMs < untilMs) edges.push({ sinceMs: wholeEndMs, untilMs });
  return { whole: { firstBucket, endBucket }, edges };
}
