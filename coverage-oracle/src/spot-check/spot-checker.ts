import {
  canonicalBytes,
  jsonDigest,
  VerifiedRoots,
  verifyReceipt,
  tensorsDigest,
  tensorsDigestInput,
  type Sha256Hex,
  type SignedReceipt,
  type Tensor,
  type Priority,
  type TraceContext,
} from '@hexedge/protocol';
import type { Verdict } from '../store/records.ts';
import { maxAbsDifference, normaliseTensors } from './compare.ts';

/** The request a receipt answered, as the gateway forwards it with the receipt (OIP tensors or a pipeline's domain input). */
export type InferenceRequest =
  | { kind: 'tensors'; modelName: string; modelVersion: string; inputs: Tensor[] }
  | { kind: 'domain'; modelName: string; modelVersion: string; input: unknown };
export type InferenceResult = { kind: 'tensors'; outputs: Tensor[] } | { kind: 'domain'; output: unknown };

export interface CheckerNode {
  nodeId: string;
  url?: string;
}
/** Runs `request` on `node` and returns its result and signed receipt; the wiring goes through the node's gateway. */
export type ReRun = (
  node: CheckerNode,
  request: InferenceRequest,
  hints?: RerunHints,
) => Promise<{ result: InferenceResult; receipt: SignedReceipt }>;

/**
 * What a re-run carries beside its body: the spot check's trace context (the re-run joins the checked
 * answer's trace) and the original request's priority and deadline, so the checker sees the headers
 * live traffic has and cannot tell a check from a customer.
 */
export interface RerunHints {
  trace?: TraceContext;
  priority?: Priority;
  deadlineMs?: number;
}
/**
 * The oracle's own execution of a request (refereed delegation): the model fetched by its content id
 * from the catalogue and run where the oracle runs. Throws when it cannot (no such model, no runtime).
 */
export type Referee = (request: InferenceRequest & { modelContentId: string }) => Promise<InferenceResult>;

/** Evidence of a wrong answer: the signed receipt, the checkers' signed receipts and the referee's output. */
export interface FraudRecord {
  evidenceId: string;
  nodeId: string;
  /** 'node': the checked node's answer was wrong; 'checker': a checker's re-run was. */
  role: 'node' | 'checker';
  modelName: string;
  modelVersion: string;
  modelContentId: string;
  inputDigest: string;
  claimedOutputDigest: string;
  refereeOutputDigest: string;
  refereeOutput: unknown;
  /** Null when the results differ in structure, not just in value. */
  maxAbsDifference: number | null;
  tolerance: number;
  /** The wrong answer's receipt. */
  receipt: SignedReceipt;
  /** The checked node's receipt and every checker's. */
  receipts: SignedReceipt[];
  atMs: number;
}

export interface SpotCheckOutcome {
  status: 'pass' | 'fraud' | 'inconclusive';
  reason: string;
  verdicts: Verdict[];
  /** The checked node's fraud, then any checker's. */
  frauds: FraudRecord[];
  /** Verification compute: the checkers' service times and the referee's run, ms. */
  checkerMs: number;
  refereeMs: number;
}

/** The receipt digests of tensors or a domain value: `tensorsDigest`/`jsonDigest`, through `hash` when a runtime gives a faster SHA-256. */
async function digestOfValue(
  value: { kind: 'tensors'; tensors: Tensor[] } | { kind: 'domain'; value: unknown },
  hash: Sha256Hex | undefined,
): Promise<string> {
  if (!hash) return value.kind === 'tensors' ? tensorsDigest(value.tensors) : jsonDigest(value.value);
  return hash(value.kind === 'tensors' ? tensorsDigestInput(value.tensors) : canonicalBytes(value.value));
}
function digestOf(result: InferenceResult, hash?: Sha256Hex): Promise<string> {
  return digestOfValue(
    result.kind === 'tensors'
      ? { kind: 'tensors', tensors: result.outputs }
      : { kind: 'domain', value: result.output },
    hash,
  );
}
function digestOfRequest(request: InferenceRequest, hash?: Sha256Hex): Promise<string> {
  return digestOfValue(
    request.kind === 'tensors'
      ? { kind: 'tensors', tensors: request.inputs }
      : { kind: 'domain', value: request.input },
    hash,
  );
}
function comparable(result: InferenceResult): unknown {
  return result.kind === 'tensors' ? normaliseTensors(result.outputs) : result.output;
}

interface Answer {
  checker: CheckerNode;
  value: unknown;
  receipt: SignedReceipt;
}

/**
 * Optimistic verification with a referee (refereed delegation) of one sampled receipt: re-run its
 * request on independent checkers; when they all agree with the node, everyone passes. On any
 * disagreement, or when too few checkers answer, the oracle re-executes the model itself and decides:
 * whoever disagrees with the referee — the node or a checker — is fraud, with both sides' receipts and
 * the referee's output as evidence. Without a referee a dispute stays inconclusive: nobody is convicted
 * by other nodes' word alone.
 */
export class SpotChecker {
  readonly #reRun: ReRun;
  readonly #referee: Referee | undefined;
  readonly #minResponses: number;
  readonly #clockMs: () => number;
  readonly #sha256: Sha256Hex | undefined;
  /** Checkers' batch roots verified so far (a checker answering several checks in one batch is verified once). */
  readonly #roots = new VerifiedRoots({ maxRoots: 1024 });

  constructor(options: {
    reRun: ReRun;
    referee?: Referee;
    minResponses?: number;
    clockMs?: () => number;
    /** A runtime's faster SHA-256 for the input and output digests (the same digests); WebCrypto's when absent. */
    sha256?: Sha256Hex;
  }) {
    this.#sha256 = options.sha256;
    this.#reRun = options.reRun;
    this.#referee = options.referee;
    this.#minResponses = options.minResponses ?? 2;
    this.#clockMs = options.clockMs ?? (() => performance.now());
  }

  async check(options: {
    receipt: SignedReceipt;
    receiptHash: string;
    request: InferenceRequest;
    result: InferenceResult;
    checkers: readonly CheckerNode[];
    /** The model's content id in the catalogue (checkers must run these bytes; the referee fetches them). */
    modelContentId: string;
    /** Run the referee even if the checkers all agree (a random audit). */
    audit?: boolean;
    /** The spot check's trace context and the original request's priority and deadline (RerunHints). */
    hints?: RerunHints;
    tolerance: number;
    nowMs: number;
  }): Promise<SpotCheckOutcome> {
    const { receipt, receiptHash, request, result, tolerance, nowMs, modelContentId } = options;
    const node = receipt.body.nodeId;
    const verdict = (
      nodeId: string,
      role: 'node' | 'checker',
      status: Verdict['status'],
      reason: string,
      details: Record<string, unknown> = {},
    ): Verdict => ({
      id: `spot:${receiptHash}:${nodeId}`,
      nodeId,
      kind: 'spot-check',
      status,
      reason,
      atMs: nowMs,
      details: { receiptHash, modelName: receipt.body.modelName, role, ...details },
    });
    let checkerMs = 0;
    let refereeMs = 0;
    const outcome = (
      status: SpotCheckOutcome['status'],
      reason: string,
      verdicts: Verdict[],
      frauds: FraudRecord[] = [],
    ): SpotCheckOutcome => ({
      status,
      reason,
      verdicts,
      frauds,
      checkerMs,
      refereeMs,
    });

    const [inputDigest, outputDigest] = await Promise.all([
      digestOfRequest(request, this.#sha256),
      digestOf(result, this.#sha256),
    ]);
    // Evidence the node did not sign cannot convict it.
    if (inputDigest !== receipt.body.inputDigest || outputDigest !== receipt.body.outputDigest)
      return outcome('inconclusive', 'EVIDENCE_MISMATCH', [
        verdict(node, 'node', 'inconclusive', 'EVIDENCE_MISMATCH'),
      ]);

    const answers: Answer[] = [];
    const badCheckers: Verdict[] = [];
    await Promise.all(
      options.checkers.map(async (checker) => {
        if (checker.nodeId === node) return;
        let answer: Awaited<ReturnType<ReRun>>;
        try {
          answer = await this.#reRun(checker, request, options.hints);
        } catch {
          return; // an unreachable checker is no evidence either way
        }
        const b = answer.receipt?.body;
        const valid =
          b?.nodeId === checker.nodeId &&
          b.modelContentId === modelContentId &&
          b.inputDigest === inputDigest &&
          b.outputDigest === (await digestOf(answer.result, this.#sha256)) &&
          (await verifyReceipt(answer.receipt, { roots: this.#roots })).ok;
        if (!valid) {
          badCheckers.push(verdict(checker.nodeId, 'checker', 'invalid', 'BAD_CHECK_RECEIPT'));
          return;
        }
        checkerMs += b.serviceTimeMs;
        answers.push({ checker, value: comparable(answer.result), receipt: answer.receipt });
      }),
    );
    answers.sort((a, b) => (a.checker.nodeId < b.checker.nodeId ? -1 : 1));
    const original = comparable(result);
    const agrees = (value: unknown) => maxAbsDifference(original, value) <= tolerance;

    // An audit has the referee run even when everyone agrees: checkers who agree with a cheater are
    // caught too, so a cartel drawn for every slot of a check is not safe either.
    if (!options.audit && answers.length >= this.#minResponses && answers.every((a) => agrees(a.value))) {
      return outcome('pass', 'AGREED_WITH_CHECKERS', [
        verdict(node, 'node', 'pass', 'AGREED_WITH_CHECKERS', {
          checkers: answers.map((a) => a.checker.nodeId),
        }),
        ...answers.map((a) => verdict(a.checker.nodeId, 'checker', 'pass', 'AGREED_WITH_CHECKERS')),
        ...badCheckers,
      ]);
    }
    const why =
      answers.length < this.#minResponses
        ? 'TOO_FEW_CHECKERS'
        : answers.every((a) => agrees(a.value))
          ? 'AUDIT'
          : 'DISPUTED';
    if (!this.#referee)
      return outcome('inconclusive', why, [verdict(node, 'node', 'inconclusive', why), ...badCheckers]);

    let reference: InferenceResult | undefined;
    let failure: unknown;
    const started = this.#clockMs();
    try {
      reference = await this.#referee({ ...request, modelContentId });
    } catch (err) {
      failure = err;
    }
    refereeMs = this.#clockMs() - started;
    if (!reference) {
      const error = String((failure as Error)?.message ?? failure).slice(0, 200);
      return outcome('inconclusive', 'REFEREE_FAILED', [
        verdict(node, 'node', 'inconclusive', 'REFEREE_FAILED', { error }),
        ...badCheckers,
      ]);
    }
    const refereeValue = comparable(reference);
    const refereeOutputDigest = await digestOf(reference, this.#sha256);
    const receipts = [receipt, ...answers.map((a) => a.receipt)];
    const fraudOf = (r: SignedReceipt, role: 'node' | 'checker', value: unknown): FraudRecord => {
      const difference = maxAbsDifference(value, refereeValue);
      return {
        evidenceId: role === 'node' ? receiptHash : `${receiptHash}:${r.body.nodeId}`,
        nodeId: r.body.nodeId,
        role,
        modelName: receipt.body.modelName,
        modelVersion: receipt.body.modelVersion,
        modelContentId,
        inputDigest,
        claimedOutputDigest: r.body.outputDigest,
        refereeOutputDigest,
        refereeOutput: refereeValue,
        maxAbsDifference: Number.isFinite(difference) ? difference : null,
        tolerance,
        receipt: r,
        receipts,
        atMs: nowMs,
      };
    };
    const verdicts: Verdict[] = [];
    const frauds: FraudRecord[] = [];
    const nodeRight = maxAbsDifference(original, refereeValue) <= tolerance;
    if (nodeRight) verdicts.push(verdict(node, 'node', 'pass', 'REFEREE_AGREED', { referee: why }));
    else {
      const fraud = fraudOf(receipt, 'node', original);
      frauds.push(fraud);
      verdicts.push(
        verdict(node, 'node', 'fraud', 'OUTPUT_MISMATCH', {
          referee: why,
          maxAbsDifference: fraud.maxAbsDifference,
          tolerance,
          checkers: answers.map((a) => a.checker.nodeId),
        }),
      );
    }
    for (const a of answers) {
      if (maxAbsDifference(a.value, refereeValue) <= tolerance)
        verdicts.push(verdict(a.checker.nodeId, 'checker', 'pass', 'AGREED_WITH_REFEREE'));
      else {
        const fraud = fraudOf(a.receipt, 'checker', a.value);
        frauds.push(fraud);
        verdicts.push(
          verdict(a.checker.nodeId, 'checker', 'fraud', 'CHECK_DISAGREED_WITH_REFEREE', {
            maxAbsDifference: fraud.maxAbsDifference,
            tolerance,
          }),
        );
      }
    }
    return outcome(
      nodeRight ? 'pass' : 'fraud',
      nodeRight ? 'REFEREE_AGREED' : 'OUTPUT_MISMATCH',
      [...verdicts, ...badCheckers],
      frauds,
    );
  }
}
