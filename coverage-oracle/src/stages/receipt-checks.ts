import {
  bytesToBase64Url,
  parseTraceparent,
  sha256,
  startHop,
  type ReceiptReportBody,
  type Sha256Hex,
} from '@hexedge/protocol';
import type { OracleDirectory } from '../directory.ts';
import { bindToCatalogue, type CatalogueView } from '../spot-check/catalogue-binding.ts';
import { drawCheckers, type CheckerCandidate } from '../spot-check/checker-draw.ts';
import { hexToBytes, isSampled, receiptHash } from '../spot-check/sampling.ts';
import type {
  FraudRecord,
  InferenceRequest,
  InferenceResult,
  SpotChecker,
} from '../spot-check/spot-checker.ts';
import type { StakeLedger } from '../stake/stake-ledger.ts';
import type { StoredReport, Verdict, WorkRecord, WorkStatus } from '../store/records.ts';

/** Who may check, as the score stage last computed it: verifiers with their operator and stake. */
export interface VerifierBook {
  /** The node as a checker candidate, when it has verifier standing. */
  verifier(nodeId: string): CheckerCandidate | undefined;
}

export interface ReceiptCheckDeps {
  directory: OracleDirectory;
  spotChecker?: SpotChecker;
  ledger: StakeLedger;
  samplingRate: number;
  /** Share of sampled receipts the referee re-runs even when the checkers all agree. */
  refereeAuditRate?: number;
  checkersPerSample: number;
  verifiers: VerifierBook;
  samplingSeedAt(atMs: number): Promise<string>;
  toleranceFor(modelName: string, modelVersion: string): number;
  /** The model catalogue receipts are bound to; absent, a receipt's own content id is taken as it is. */
  catalogue?: CatalogueView;
  /**
   * A runtime's faster SHA-256 (node:crypto's, synchronous) for the receipt hash and the sampling
   * and audit draws: the same digests as WebCrypto's, which is the default.
   */
  sha256?: Sha256Hex;
}

/**
 * A forwarded receipt becomes work (once per receipt hash). First it is bound to the model catalogue
 * (a receipt that misnames its model is fraud, slashed on its own signature); then, when the epoch's
 * secret seed samples it, it is spot-checked by checkers drawn with the same secret, with the oracle
 * as referee. Every fraud — the node's, or a checker's the referee contradicted — slashes its signer
 * with the record as evidence (the ledger refuses a second slash for the same evidence). What became
 * of the receipt decides whether it earns: only unchecked and passed work does.
 */
export async function handleReceiptReport(
  report: StoredReport,
  deps: ReceiptCheckDeps,
): Promise<{ work: WorkRecord; verdicts: Verdict[] }> {
  const body = report.body as ReceiptReportBody;
  const receipt = body.receipt;
  const atMs = report.receivedAtMs;
  const hash = await receiptHash(receipt, deps.sha256);
  const seed = await deps.samplingSeedAt(atMs);
  const sampled = await isSampled({
    receiptHash: hash,
    seed,
    rate: deps.samplingRate,
    ...(deps.sha256 ? { sha256: deps.sha256 } : {}),
  });
  const work = (status: WorkStatus, extra: Partial<WorkRecord> = {}): WorkRecord => ({
    receiptHash: hash,
    nodeId: receipt.body.nodeId,
    modelName: receipt.body.modelName,
    modelVersion: receipt.body.modelVersion,
    atMs,
    sampled,
    status,
    serviceTimeMs: receipt.body.serviceTimeMs,
    ...extra,
  });
  const verdictOn = (
    status: Verdict['status'],
    reason: string,
    details: Record<string, unknown> = {},
  ): Verdict => ({
    id: `spot:${hash}:${receipt.body.nodeId}`,
    nodeId: receipt.body.nodeId,
    kind: 'spot-check',
    status,
    reason,
    atMs,
    details: { receiptHash: hash, modelName: receipt.body.modelName, role: 'node', ...details },
  });

  const binding = bindToCatalogue({ receipt, requested: body.request, catalogue: deps.catalogue });
  if (binding.status === 'unknown')
    return { work: work('unbound'), verdicts: [verdictOn('inconclusive', binding.reason)] };
  if (binding.status === 'fraud') {
    const slash = deps.ledger.slash({
      nodeId: receipt.body.nodeId,
      evidenceId: hash,
      evidence: {
        reason: binding.reason,
        receipt,
        requested: { modelName: body.request.modelName, modelVersion: body.request.modelVersion },
        catalogue: binding.expected,
        atMs,
      },
      atMs,
    });
    return {
      work: work('unbound'),
      verdicts: [
        verdictOn('fraud', binding.reason, {
          expected: binding.expected,
          slashed: slash.slashed,
          slashedBaseUnits: slash.amountBaseUnits.toString(),
        }),
      ],
    };
  }
  // A region-bound key's receipt comes with digests only (its raw data stays in its region): work, never re-run elsewhere.
  if (!sampled || !deps.spotChecker || body.request.kind === 'digests' || body.result.kind === 'digests')
    return { work: work('unchecked'), verdicts: [] };

  // The catalogue lists the model but its manifest is not read yet: its tolerance is unknown, and
  // judging with the default could call an honest int8 answer fraud. Counted as unchecked work.
  if (deps.catalogue?.toleranceKnown?.(receipt.body.modelName, receipt.body.modelVersion) === false)
    return { work: work('unchecked'), verdicts: [verdictOn('inconclusive', 'TOLERANCE_UNKNOWN')] };

  const candidates = deps.directory
    .listNodes()
    .filter((n) => n.models.includes(receipt.body.modelName))
    .flatMap((n) => {
      const v = deps.verifiers.verifier(n.nodeId);
      return v ? [{ ...v, url: n.url }] : [];
    });
  const checkedNode = deps.directory.getNode(receipt.body.nodeId);
  const checkers = await drawCheckers({
    seed,
    receiptHash: hash,
    candidates,
    checked: {
      nodeId: receipt.body.nodeId,
      operatorId: deps.ledger.operatorOf(receipt.body.nodeId) ?? receipt.body.nodeId,
      ...(checkedNode ? { url: checkedNode.url } : {}),
    },
    count: deps.checkersPerSample,
  });
  // The spot check joins the trace of the answer it checks (the gateway forwards it beside the receipt).
  const hop = startHop({
    tracer: 'hexedge-oracle',
    name: 'oracle spot-check',
    kind: 'internal',
    parent: parseTraceparent(body.context?.traceparent),
    attributes: {
      'hexedge.node_id': receipt.body.nodeId,
      'hexedge.model': receipt.body.modelName,
      'hexedge.receipt_hash': hash,
      'hexedge.checkers': checkers.length,
    },
  });
  const outcome = await deps.spotChecker.check({
    hints: {
      trace: hop.context,
      ...(body.context?.priority ? { priority: body.context.priority } : {}),
      ...(body.context?.deadlineMs !== undefined ? { deadlineMs: body.context.deadlineMs } : {}),
    },
    receipt,
    receiptHash: hash,
    request: body.request as InferenceRequest,
    result: body.result as InferenceResult,
    checkers: checkers.map((c) => ({ nodeId: c.nodeId, ...(c.url ? { url: c.url } : {}) })),
    modelContentId: binding.contentId,
    // Which samples are audited is drawn from the same secret, with its own label.
    audit: await isSampled({
      receiptHash: hash,
      seed: await auditSeed(seed, deps.sha256),
      rate: deps.refereeAuditRate ?? 0,
      ...(deps.sha256 ? { sha256: deps.sha256 } : {}),
    }),
    tolerance: deps.toleranceFor(receipt.body.modelName, receipt.body.modelVersion),
    nowMs: atMs,
  });
  hop.end({ attributes: { 'hexedge.spot_check': outcome.status, 'hexedge.reason': outcome.reason } });
  // The verdicts name the trace, so a request's spot check can be found from either side.
  if (body.context?.traceparent)
    for (const v of outcome.verdicts) v.details = { ...v.details, traceId: hop.context.traceId };
  for (const fraud of outcome.frauds) slashFor(fraud, outcome.verdicts, deps.ledger, atMs);
  const status: WorkStatus =
    outcome.status === 'pass' ? 'pass' : outcome.status === 'fraud' ? 'fraud' : 'inconclusive';
  return {
    work: work(status, { checkerMs: round3(outcome.checkerMs), refereeMs: round3(outcome.refereeMs) }),
    verdicts: outcome.verdicts,
  };
}

function slashFor(fraud: FraudRecord, verdicts: Verdict[], ledger: StakeLedger, atMs: number): void {
  const slash = ledger.slash({
    nodeId: fraud.nodeId,
    evidenceId: fraud.evidenceId,
    evidence: { ...fraud },
    atMs,
  });
  const v = verdicts.find((x) => x.nodeId === fraud.nodeId && x.status === 'fraud');
  if (v)
    v.details = { ...v.details, slashed: slash.slashed, slashedBaseUnits: slash.amountBaseUnits.toString() };
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** The audit draw's seed: SHA-256 of the epoch seed and a label, so it is independent of the sampling draw. */
async function auditSeed(seed: string, hash?: Sha256Hex): Promise<string> {
  const input = new TextEncoder().encode(`audit\n${seed}`);
  return bytesToBase64Url(hash ? hexToBytes(await hash(input)) : await sha256(input));
}
