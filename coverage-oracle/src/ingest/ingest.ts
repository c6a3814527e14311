import { isValidSignature, type ErrorCode } from '@hexedge/protocol';
import type { OracleDirectory } from '../directory.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { ReportType, StoredReport } from '../store/records.ts';
import { formatIssue } from '../format-issue.ts';
import { signedReportSchema, type ReportBody, type SignedReport } from '@hexedge/protocol';

/** Reports older than this are refused: long enough for a retry after a network blip, short enough to bound the nonce memory. */
export const MAX_REPORT_AGE_MS = 5 * 60_000;
/** Reporters' clocks may run this far ahead of the oracle's (NTP keeps honest ones within a second). */
export const MAX_CLOCK_SKEW_MS = 30_000;

export type IngestResult =
  { accepted: true; seq: number; type: ReportType } | { accepted: false; code: ErrorCode; message: string };

/** Which reporters may send which report: hotspots their own radio reports, known services the rest. */
function refusal(
  body: ReportBody,
  directory: OracleDirectory,
  solicited: boolean,
): { code: ErrorCode; message: string } | undefined {
  const unknown = {
    code: 'UNKNOWN_NODE' as const,
    message: `${body.nodeId} is not a known ${body.type} reporter`,
  };
  switch (body.type) {
    case 'beacon':
    case 'witness':
      return directory.getHotspot(body.nodeId) !== undefined ? undefined : unknown;
    case 'receipt':
    case 'node-fault':
      return directory.getReporter(body.nodeId)?.roles.includes('gateway') ? undefined : unknown;
    case 'uplink':
      return directory.getReporter(body.nodeId)?.roles.includes('bridge') ? undefined : unknown;
    case 'location': {
      const reporter = directory.getReporter(body.nodeId);
      if (!reporter?.roles.includes('challenger')) return unknown;
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

function roundKeyOf(body: ReportBody): string | undefined {
  if (body.type === 'beacon') return `poc:${body.beacon.data}`;
  if (body.type === 'witness') return `poc:${body.witness.data}`;
  if (body.type === 'location') return `loc:${body.targetNodeId}`;
  return undefined;
}

/**
 * The oracle's front door. In order: shape and number ranges, freshness, the report's Ed25519
 * signature, then the reporter's standing (known, with the role and trust for this report), a
 * forwarded receipt's own signature, then the (nodeId, nonce) replay check; only then is the report stored for the
 * stages. Nothing is looked up for a report before its signature verifies: an unsigned or forged one
 * costs a schema check and one Ed25519 verification, never a directory or trust-table read. A refusal
 * is a value naming a HexEdgeError code; only a store failure throws.
 */
export class Ingest {
  readonly #store: OracleStore;
  readonly #directory: OracleDirectory;

  constructor(options: { store: OracleStore; directory: OracleDirectory }) {
    this.#store = options.store;
    this.#directory = options.directory;
  }

  async submit(raw: unknown, nowMs: number): Promise<IngestResult> {
    return (await this.submitBatch([raw], nowMs))[0]!;
  }

  /**
   * Checks a batch concurrently (signature checks dominate), then stores the accepted reports in one
   * write. `solicited`: the reports answer the oracle's own probes (the challenge scheduler's path).
   */
  async submitBatch(
    raws: readonly unknown[],
    nowMs: number,
    options: { solicited?: boolean } = {},
  ): Promise<IngestResult[]> {
    const checked = await Promise.all(raws.map((raw) => this.#check(raw, nowMs, options.solicited ?? false)));
    const results: IngestResult[] = new Array(raws.length);
    const accepted: Array<{ index: number; report: Omit<StoredReport, 'seq'> }> = [];
    checked.forEach((c, index) => {
      if ('code' in c) {
        results[index] = { accepted: false, code: c.code, message: c.message };
        return;
      }
      const { body, signature } = c.report;
      // Replay last: only a report that is otherwise acceptable spends its nonce.
      if (
        !this.#store.claimNonce({
          nodeId: body.nodeId,
          nonce: body.nonce,
          expiresAtMs: body.issuedAtMs + MAX_REPORT_AGE_MS,
          nowMs,
        })
      ) {
        results[index] = {
          accepted: false,
          code: 'REPLAYED',
          message: `nonce ${body.nonce} from ${body.nodeId} was already used`,
        };
        return;
      }
      const roundKey = roundKeyOf(body);
      accepted.push({
        index,
        report: {
          type: body.type,
          nodeId: body.nodeId,
          receivedAtMs: nowMs,
          ...(roundKey ? { roundKey } : {}),
          body: body as Record<string, unknown>,
          signature,
        },
      });
    });
    const stored = accepted.length ? this.#store.appendReports(accepted.map((a) => a.report)) : [];
    stored.forEach((s, i) => (results[accepted[i]!.index] = { accepted: true, seq: s.seq, type: s.type }));
    return results;
  }

  async #check(
    raw: unknown,
    nowMs: number,
    solicited: boolean,
  ): Promise<{ report: SignedReport } | { code: ErrorCode; message: string }> {
    const parsed = signedReportSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { code: 'INVALID_REQUEST', message: `report ${formatIssue(issue)}` };
    }
    const report = parsed.data;
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
    if (!(await isValidSignature('report', report)))
      return {
        code: 'BAD_SIGNATURE',
        message: `${body.type} report signature does not verify for ${body.nodeId}`,
      };
    const refused = refusal(body, this.#directory, solicited);
    if (refused) return refused;
    // The forwarded receipt's own signature last: only a known gateway's report is worth a second check.
    if (body.type === 'receipt' && !(await isValidSignature('receipt', body.receipt)))
      return {
        code: 'BAD_SIGNATURE',
        message: `forwarded receipt signature does not verify for ${body.receipt.body.nodeId}`,
      };
    return { report };
  }
}
