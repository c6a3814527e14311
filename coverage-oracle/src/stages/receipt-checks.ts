import type { OracleDirectory } from '../directory.ts';
import type { ReceiptReportBody } from '@hexedge/protocol';
import { isSampled, receiptHash } from '../spot-check/sampling.ts';
import {
  pickCheckers,
  type InferenceRequest,
  type InferenceResult,
  type SpotChecker,
} from '../spot-check/spot-checker.ts';
import type { StakeLedger } from '../stake/stake-ledger.ts';
import type { StoredReport, Verdict, WorkRecord } from '../store/records.ts';

export interface ReceiptCheckDeps {
  directory: OracleDirectory;
  spotChecker?: SpotChecker;
  ledger: StakeLedger;
  samplingRate: number;
  checkersPerSample: number;
  /** Only nodes at least this trusted re-run others' work. */
  minCheckerTrust: number;
  trustOf(nodeId: string): number;
  samplingSeedAt(atMs: number): Promise<string>;
  toleranceFor(modelName: string, modelVersion: string): number;
}

/**
 * A forwarded receipt becomes work (once per receipt hash), and, when the epoch's seed samples it, a
 * spot check; confirmed fraud slashes the node's stake with the fraud record as evidence (the ledger
 * refuses a second slash for the same receipt).
 */
export async function handleReceiptReport(
  report: StoredReport,
  deps: ReceiptCheckDeps,
): Promise<{ work: WorkRecord; verdicts: Verdict[] }> {
  const body = report.body as ReceiptReportBody;
  const receipt = body.receipt;
  const hash = await receiptHash(receipt);
  const sampled = await isSampled({
    receiptHash: hash,
    seed: await deps.samplingSeedAt(report.receivedAtMs),
    rate: deps.samplingRate,
  });
  const work: WorkRecord = {
    receiptHash: hash,
    nodeId: receipt.body.nodeId,
    modelName: receipt.body.modelName,
    modelVersion: receipt.body.modelVersion,
    atMs: report.receivedAtMs,
    sampled,
  };
  // A region-bound key's receipt comes with digests only (its raw data stays in its region): work, never re-run elsewhere.
  if (!sampled || !deps.spotChecker || body.request.kind === 'digests' || body.result.kind === 'digests')
    return { work, verdicts: [] };

  const candidates = deps.directory
    .listNodes()
    .filter(
      (n) => n.models.includes(receipt.body.modelName) && deps.trustOf(n.nodeId) >= deps.minCheckerTrust,
    )
    .map((n) => ({ nodeId: n.nodeId, url: n.url }));
  const checkers = pickCheckers({
    candidates,
    excludeNodeId: receipt.body.nodeId,
    receiptHash: hash,
    count: deps.checkersPerSample,
  });
  const outcome = await deps.spotChecker.check({
    receipt,
    receiptHash: hash,
    request: body.request as InferenceRequest,
    result: body.result as InferenceResult,
    checkers,
    tolerance: deps.toleranceFor(receipt.body.modelName, receipt.body.modelVersion),
    nowMs: report.receivedAtMs,
  });
  if (outcome.fraud) {
    const slash = deps.ledger.slash({
      nodeId: outcome.fraud.nodeId,
      evidenceId: outcome.fraud.evidenceId,
      evidence: { ...outcome.fraud },
      atMs: report.receivedAtMs,
    });
    const fraudVerdict = outcome.verdicts[0]!;
    fraudVerdict.details = {
      ...fraudVerdict.details,
      slashed: slash.slashed,
      slashedBaseUnits: slash.amountBaseUnits.toString(),
    };
  }
  return { work, verdicts: outcome.verdicts };
}
