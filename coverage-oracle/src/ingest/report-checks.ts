import {
  isBatchSigned,
  isValidSignature,
  REPORTER_NOT_KNOWN,
  safeParseSignedReportWithLeaves,
  verifyBatchSignedNow,
  verifyReceipt,
  type BatchVerdict,
  type BatchVerifyOptions,
  type ErrorCode,
  type FastReportLeaves,
  type ReceiptReportBody,
  type ReceiptVerdict,
  type ReportBody,
  type ReportRefusalReason,
  type Sha256Hex,
  type Signed,
  type SignedReport,
} from '@hexedge/protocol';
import type { OracleDirectory } from '../directory.ts';
import { formatIssue } from '../format-issue.ts';

/** Reports older than this are refused: long enough for a retry after a network blip, short enough to bound the nonce memory. */
export const MAX_REPORT_AGE_MS = 5 * 60_000;
/** Reporters' clocks may run this far ahead of the oracle's (NTP keeps honest ones within a second). */
export const MAX_CLOCK_SKEW_MS = 30_000;

export type Refusal = { code: ErrorCode; message: string; reason?: ReportRefusalReason };
export type Checked = { report: SignedReport } | Refusal;

/** Reports whose reporters a directory refresh can teach the oracle: the gateways' (their report keys). */
const LEARNT_FROM_GATEWAYS: ReadonlySet<ReportBody['type']> = new Set(['receipt', 'node-fault']);

/** Which reporters may send which report: hotspots their own radio reports, known services the rest. */
function refusal(body: ReportBody, directory: OracleDirectory, solicited: boolean): Refusal | undefined {
  // About the reporter, not the report: a reporter the oracle learns of later may send it again.
  const unknown = (): Refusal => ({
    code: 'UNKNOWN_NODE',
    message: `${body.nodeId} is not a known ${body.type} reporter`,
    reason: REPORTER_NOT_KNOWN,
  });
  switch (body.type) {
    case 'beacon':
    case 'witness':
      return directory.getHotspot(body.nodeId) !== undefined ? undefined : unknown();
    case 'receipt':
    case 'node-fault':
      return directory.getReporter(body.nodeId)?.roles.includes('gateway') ? undefined : unknown();
    case 'uplink':
      return directory.getReporter(body.nodeId)?.roles.includes('bridge') ? undefined : unknown();
    case 'location': {
      const reporter = directory.getReporter(body.nodeId);
      if (!reporter?.roles.includes('challenger')) return unknown();
      // A node's word about another node counts only when the oracle asked for it (a probe it chose).
      if (!reporter.trusted && !solicited)
        return {
          code: 'FORBIDDEN',
          message: `${body.nodeId} may report locations only in answer to the oracle's probes`,
        };
      return undefined;
    }
  }
}

/** A forwarded receipt's verdict as the report's. */
function judged(report: SignedReport, verdict: BatchVerdict | ReceiptVerdict): Checked {
  if (verdict.ok) return { report };
  const { nodeId } = (report.body as ReceiptReportBody).receipt.body;
  return {
    code: 'BAD_SIGNATURE',
    message: `forwarded receipt of ${nodeId} does not verify: ${verdict.fault}: ${verdict.message}`,
  };
}

/**
 * One report's checks before its replay check (Ingest's): shape and number ranges, freshness, the
 * report's signature (its own, or its batch root's through its inclusion proof), the reporter's
 * standing, then a forwarded receipt's own signature or proof and root. A refusal is a value.
 */
export class ReportChecks {
  readonly #directory: OracleDirectory;
  readonly #sha256: Sha256Hex | undefined;
  readonly #reportVerify: BatchVerifyOptions;
  readonly #receiptVerify: BatchVerifyOptions;

  constructor(options: {
    directory: OracleDirectory;
    sha256: Sha256Hex | undefined;
    reportVerify: BatchVerifyOptions;
    receiptVerify: BatchVerifyOptions;
  }) {
    this.#directory = options.directory;
    this.#sha256 = options.sha256;
    this.#reportVerify = options.reportVerify;
    this.#receiptVerify = options.receiptVerify;
  }

  /**
   * One report's checks, in order: synchronous unless a signature check or a directory read must be
   * awaited (a root not seen before on an asynchronous engine, a v1 signature, a reporter not known).
   */
  check(raw: unknown, nowMs: number, solicited: boolean): Checked | Promise<Checked> {
    // A receipt report of the usual shape comes with its leaf hashes (and its receipt's), written once.
    const parsed = safeParseSignedReportWithLeaves(raw, this.#sha256);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { code: 'INVALID_REQUEST', message: `report ${formatIssue(issue)}` };
    }
    const report = parsed.data;
    const leaves = 'leaves' in parsed ? parsed.leaves : undefined;
    const { body } = report;
    if (body.issuedAtMs > nowMs + MAX_CLOCK_SKEW_MS)
      return {
        code: 'STALE_MESSAGE',
        message: `report issuedAtMs ${body.issuedAtMs} is ${body.issuedAtMs - nowMs} ms in the future`,
      };
    if (body.issuedAtMs < nowMs - MAX_REPORT_AGE_MS)
      return {
        code: 'STALE_MESSAGE',
        message: `report issuedAtMs ${body.issuedAtMs} is ${nowMs - body.issuedAtMs} ms old (max ${MAX_REPORT_AGE_MS})`,
      };
    if (isBatchSigned(report)) {
      // Synchronous for a leaf whose root is verified already: no promise per report on the hot path.
      const now = verifyBatchSignedNow('report', report, this.#reportVerify, leaves?.report);
      return now instanceof Promise
        ? now.then((verdict) => this.#signed(report, verdict, leaves, solicited))
        : this.#signed(report, now, leaves, solicited);
    }
    return this.#signedAlone(report, leaves, solicited);
  }

  // Continuations are methods rather than closures in #check: a closure there would make V8 allocate
  // #check's context for every report, the synchronous ones included.
  #signed(
    report: SignedReport,
    verdict: BatchVerdict,
    leaves: FastReportLeaves | undefined,
    solicited: boolean,
  ): Checked | Promise<Checked> {
    if (verdict.ok) return this.#standing(report, leaves, solicited);
    return {
      code: 'BAD_SIGNATURE',
      message: `${report.body.type} report: ${verdict.fault}: ${verdict.message}`,
    };
  }

  async #signedAlone(
    report: SignedReport,
    leaves: FastReportLeaves | undefined,
    solicited: boolean,
  ): Promise<Checked> {
    const { body } = report;
    if (await isValidSignature('report', report as Signed<ReportBody>))
      return this.#standing(report, leaves, solicited);
    return {
      code: 'BAD_SIGNATURE',
      message: `${body.type} report signature does not verify for ${body.nodeId}`,
    };
  }

  /** After the report's signature: the reporter's standing, then a forwarded receipt's own check. */
  #standing(report: SignedReport, leaves: FastReportLeaves | undefined, solicited: boolean) {
    const { body } = report;
    const refused = refusal(body, this.#directory, solicited);
    if (refused?.reason === REPORTER_NOT_KNOWN && LEARNT_FROM_GATEWAYS.has(body.type))
      // A gateway that started, or changed its report key, since the directory's last read: read it
      // again (the directory rate-limits this; only a validly signed report gets this far), then judge.
      return (async () => {
        await this.#directory.refreshReporters?.();
        return refusal(body, this.#directory, solicited) ?? this.#forwarded(report, leaves);
      })();
    return refused ?? this.#forwarded(report, leaves);
  }

  /** The forwarded receipt's own signature last: only a known gateway's report is worth a second check. */
  #forwarded(report: SignedReport, leaves: FastReportLeaves | undefined): Checked | Promise<Checked> {
    const { body } = report;
    if (body.type !== 'receipt') return { report };
    const { receipt } = body;
    // verifyReceipt's verdicts: a v2 receipt's are verifyBatchSigned's.
    const now = isBatchSigned(receipt)
      ? verifyBatchSignedNow('receipt', receipt, this.#receiptVerify, leaves?.receipt)
      : verifyReceipt(receipt, this.#receiptVerify);
    return now instanceof Promise ? now.then((verdict) => judged(report, verdict)) : judged(report, now);
  }
}
