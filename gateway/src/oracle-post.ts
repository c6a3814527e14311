// The wire side of forwarding: what a queued item becomes as a report body, a batch signed under one
// root, and one post of it to the oracle read into a verdict. Apart from ReceiptForwarder so that the
// class reads as its queue, retry and stop policy.
import { REPORTS_PATH, signBatch, type NodeKeyPair, type Sha256Hex } from '@hexedge/protocol';
import type { FaultBody } from './oracle-fault-fold.ts';
import { reportNonce, signReceiptReport, type Answered, type ReportSigner } from './oracle-reports.ts';
import { readReportsAnswer, type AnswerVerdict } from './oracle-retry.ts';

/** One post's bound; the forwarder's stop deadline (DEFAULT_FORWARD_STOP_TIMEOUT_MS) allows for one. */
export const POST_TIMEOUT_MS = 10_000;

export type Queued = ({ kind: 'receipt'; answered: Answered } | { kind: 'fault'; body: FaultBody }) & {
  /** When the oracle first answered that it does not know this gateway's report key yet (held since). */
  notKnownSinceMs?: number;
};

/** The batch's reports: the bodies as they would be signed alone, then one root over all of them. */
export async function signQueuedBatch(
  batch: readonly Queued[],
  options: { keys: NodeKeyPair; sha256: Sha256Hex | undefined },
): Promise<unknown[]> {
  const { keys, sha256 } = options;
  const bodies = await Promise.all(batch.map((a) => queuedReport(a, keys, async (body) => body)));
  return signBatch({
    kind: 'report',
    bodies,
    keys,
    nowMs: Date.now(),
    ...(sha256 ? { sha256 } : {}),
  });
}

/**
 * Posts signed reports to the oracle and reads its answer (`count`: reports in the post). Throws on a
 * failed post, a non-2xx answer (with the first 200 characters of its body), or a timeout or stop.
 */
export async function postReports(options: {
  fetch: typeof fetch;
  oracleUrl: string;
  reports: unknown[];
  count: number;
  /** Aborts the post once a stopping forwarder's deadline passes. */
  stopSignal: AbortSignal;
}): Promise<AnswerVerdict> {
  const res = await options.fetch(new URL(REPORTS_PATH, options.oracleUrl).href, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(options.reports),
    signal: AbortSignal.any([AbortSignal.timeout(POST_TIMEOUT_MS), options.stopSignal]),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return readReportsAnswer(await res.json(), options.count);
}

function queuedReport<T>(item: Queued, keys: NodeKeyPair, sign: ReportSigner<T>): Promise<T> {
  if (item.kind === 'receipt') return signReceiptReport(item.answered, keys, sign);
  const body = {
    ...item.body,
    nodeId: keys.nodeId,
    nonce: reportNonce(),
    issuedAtMs: Date.now(),
  };
  return sign(body);
}
