import {
  isBatchSigned,
  VerifiedRoots,
  type BatchVerifyOptions,
  type ErrorCode,
  type ReportBody,
  type ReportRefusalReason,
  type Sha256Hex,
} from '@hexedge/protocol';
import type { OracleDirectory } from '../directory.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { NonceClaim, ReportType, StoredReport } from '../store/records.ts';
import { IngestCommitter } from './group-commit.ts';
import { ReplayGuard, replayKey } from './replay-guard.ts';
import { MAX_REPORT_AGE_MS, ReportChecks, type Checked } from './report-checks.ts';

export { MAX_CLOCK_SKEW_MS, MAX_REPORT_AGE_MS } from './report-checks.ts';

export type IngestResult =
  | { accepted: true; seq: number; type: ReportType }
  | { accepted: false; code: ErrorCode; message: string; reason?: ReportRefusalReason };

function roundKeyOf(body: ReportBody): string | undefined {
  if (body.type === 'beacon') return `poc:${body.beacon.data}`;
  if (body.type === 'witness') return `poc:${body.witness.data}`;
  if (body.type === 'location') return `loc:${body.targetNodeId}`;
  return undefined;
}

export interface IngestOptions {
  store: OracleStore;
  directory: OracleDirectory;
  /** SHA-256 for batch proofs (the Node adapter passes node:crypto's); WebCrypto's when absent. */
  sha256?: Sha256Hex;
  /** Group commit window, ms (DEFAULT_INGEST_COMMIT_DELAY_MS). */
  commitDelayMs?: number;
  /** Spent nonces kept in memory at most (DEFAULT_MAX_REPLAY_NONCES). */
  maxReplayNonces?: number;
  /** Told each durable group commit's reports in seq order (CoverageOracle hands them to the verify stage). */
  onCommitted?: (stored: readonly StoredReport[]) => void;
  nowMs?: () => number;
}

/**
 * The oracle's front door. In order: shape and number ranges, freshness, the report's Ed25519
 * signature (its own, or its batch root's through its inclusion proof), then the reporter's standing
 * (known, with the role and trust for this report), a forwarded receipt's own signature (v1) or proof
 * and root (v2), then the (nodeId, nonce) replay check; only then is the report stored for the stages.
 * Nothing is looked up for a report before its signature verifies: an unsigned or forged one costs a
 * schema check and one Ed25519 verification, never a directory or trust-table read. A refusal is a
 * value naming a HexEdgeError code; only a store failure throws (STORAGE_UNAVAILABLE).
 *
 * Batch roots (of reports and of receipts) are verified once each and remembered (bounded LRU).
 * Replay checks run in memory (ReplayGuard); accepted reports are group-committed with their nonces
 * (IngestCommitter), and `submitBatch` settles only once they are durable: a sender told "accepted"
 * never loses that report to a crash, and a resend after a crash is refused as REPLAYED, not counted
 * twice.
 */
export class Ingest {
  readonly #sha256: Sha256Hex | undefined;
  readonly #reportRoots = new VerifiedRoots();
  readonly #receiptRoots = new VerifiedRoots();
  readonly #checks: ReportChecks;
  readonly #replay: ReplayGuard;
  readonly #committer: IngestCommitter;
  readonly #now: () => number;

  constructor(options: IngestOptions) {
    this.#sha256 = options.sha256;
    this.#checks = new ReportChecks({
      directory: options.directory,
      sha256: options.sha256,
      reportVerify: this.#verifyOptions(this.#reportRoots),
      receiptVerify: this.#verifyOptions(this.#receiptRoots),
    });
    this.#now = options.nowMs ?? Date.now;
    const maxNonces = options.maxReplayNonces;
    this.#replay = new ReplayGuard({
      state: options.store.loadReplayState({ nowMs: this.#now(), limit: maxNonces ?? 1_000_000 }),
      maxAgeMs: MAX_REPORT_AGE_MS,
      ...(maxNonces !== undefined ? { maxNonces } : {}),
    });
    this.#committer = new IngestCommitter({
      store: options.store,
      ...(options.commitDelayMs !== undefined ? { delayMs: options.commitDelayMs } : {}),
      nowMs: this.#now,
      unsavedFloor: () => this.#replay.takeUnsavedFloor(),
      ...(options.onCommitted ? { onCommitted: options.onCommitted } : {}),
    });
  }

  /** Group commits so far and the reports they held. */
  get commitStats(): IngestCommitter['stats'] {
    return this.#committer.stats;
  }

  /** Batch roots looked up (hits) and verified by signature (misses), of reports and of receipts. */
  get rootStats(): { reports: VerifiedRoots['stats']; receipts: VerifiedRoots['stats'] } {
    return { reports: this.#reportRoots.stats, receipts: this.#receiptRoots.stats };
  }

  async submit(raw: unknown, nowMs: number): Promise<IngestResult> {
    return (await this.submitBatch([raw], nowMs))[0]!;
  }

  /**
   * Checks a batch concurrently (signature checks dominate), then stores the accepted reports in the
   * next group commit and settles once it is durable. `solicited`: the reports answer the oracle's own
   * probes (the challenge scheduler's path).
   */
  async submitBatch(
    raws: readonly unknown[],
    nowMs: number,
    options: { solicited?: boolean } = {},
  ): Promise<IngestResult[]> {
    const pending = raws.map((raw) => this.#checks.check(raw, nowMs, options.solicited ?? false));
    // Most posts check without a promise (roots already verified): no await then.
    const checked = pending.some((c) => c instanceof Promise)
      ? await Promise.all(pending)
      : (pending as Checked[]);
    const results: IngestResult[] = new Array(raws.length);
    const accepted: Array<{ index: number; report: Omit<StoredReport, 'seq'> }> = [];
    const claims: NonceClaim[] = [];
    checked.forEach((c, index) => {
      if ('code' in c) {
        results[index] = { accepted: false, ...c };
        return;
      }
      const { report } = c;
      const { body } = report;
      // One object for the replay check and the commit (the store reads the NonceClaim fields).
      const claim = {
        nodeId: body.nodeId,
        nonce: body.nonce,
        expiresAtMs: body.issuedAtMs + MAX_REPORT_AGE_MS,
        issuedAtMs: body.issuedAtMs,
        nowMs,
        key: replayKey(body.nodeId, body.nonce),
      };
      // Replay last: only a report that is otherwise acceptable spends its nonce.
      const replay = this.#replay.claim(claim);
      if (replay !== 'fresh') {
        results[index] =
          replay === 'replayed'
            ? {
                accepted: false,
                code: 'REPLAYED',
                message: `nonce ${body.nonce} from ${body.nodeId} was already used`,
              }
            : {
                accepted: false,
                code: 'STALE_MESSAGE',
                message: `report issuedAtMs ${body.issuedAtMs} is at or below the replay watermark ${this.#replay.floorMs}`,
              };
        return;
      }
      claims.push(claim);
      const roundKey = roundKeyOf(body);
      accepted.push({
        index,
        // Spelt out for the usual case (a batch-signed report without a round): no object per spread.
        report:
          roundKey === undefined && isBatchSigned(report)
            ? {
                type: body.type,
                nodeId: body.nodeId,
                receivedAtMs: nowMs,
                body: body as Record<string, unknown>,
                signature: report.batch.root.signature,
                batch: report.batch,
              }
            : {
                type: body.type,
                nodeId: body.nodeId,
                receivedAtMs: nowMs,
                ...(roundKey ? { roundKey } : {}),
                body: body as Record<string, unknown>,
                ...(isBatchSigned(report)
                  ? { signature: report.batch.root.signature, batch: report.batch }
                  : { signature: report.signature }),
              },
      });
    });
    if (accepted.length === 0) return results;
    let stored: StoredReport[];
    try {
      stored = await this.#committer.commit(
        accepted.map((a) => a.report),
        claims,
      );
    } catch (err) {
      this.#replay.release(claims);
      throw err;
    }
    this.#replay.confirm(claims, nowMs);
    stored.forEach((s, i) => (results[accepted[i]!.index] = { accepted: true, seq: s.seq, type: s.type }));
    return results;
  }

  #verifyOptions(roots: VerifiedRoots): BatchVerifyOptions {
    return this.#sha256 ? { roots, sha256: this.#sha256 } : { roots };
  }
}
