import { isValidSignature, jsonDigest, tensorsDigest, type SignedReceipt, type Tensor } from '@hexedge/protocol';
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
/** Runs `request` on `node` and returns its result and signed receipt; the wiring calls the node's OIP endpoint. */
export type ReRun = (node: CheckerNode, request: InferenceRequest) => Promise<{ result: InferenceResult; receipt: SignedReceipt }>;

/** Evidence of a wrong answer: the node's signed receipt against the majority's signed receipts. */
export interface FraudRecord {
  evidenceId: string;
  nodeId: string;
  modelName: string;
  modelVersion: string;
  modelContentId: string;
  inputDigest: string;
  claimedOutputDigest: string;
  consensusOutputDigest: string;
  /** Null when the results differ in structure, not just in value. */
  maxAbsDifference: number | null;
  tolerance: number;
  receipt: SignedReceipt;
  consensusReceipts: SignedReceipt[];
  atMs: number;
}

export interface SpotCheckOutcome {
  status: 'pass' | 'fraud' | 'inconclusive';
  reason: string;
  verdicts: Verdict[];
  fraud?: FraudRecord;
}

function digestOf(result: InferenceResult): Promise<string> {
  return result.kind === 'tensors' ? tensorsDigest(result.outputs) : jsonDigest(result.output);
}
function digestOfRequest(request: InferenceRequest): Promise<string> {
  return request.kind === 'tensors' ? tensorsDigest(request.inputs) : jsonDigest(request.input);
}
function comparable(result: InferenceResult): unknown {
  return result.kind === 'tensors' ? normaliseTensors(result.outputs) : result.output;
}

/** FNV-1a: a cheap, deterministic order for picking checkers, so anyone can recompute who checked what. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Rendezvous choice of `count` checkers for a receipt among trusted candidates, never the node checked. */
export function pickCheckers(options: { candidates: readonly CheckerNode[]; excludeNodeId: string; receiptHash: string; count: number }): CheckerNode[] {
  return options.candidates
    .filter((c) => c.nodeId !== options.excludeNodeId)
    .map((c) => ({ c, rank: fnv1a(`${options.receiptHash}:${c.nodeId}`) }))
    .sort((a, b) => a.rank - b.rank || (a.c.nodeId < b.c.nodeId ? -1 : 1))
    .slice(0, options.count)
    .map((x) => x.c);
}

interface Answer {
  checker: CheckerNode;
  value: unknown;
  receipt: SignedReceipt;
}

/**
 * Optimistic verification of one sampled receipt: re-run its request on independent trusted nodes
 * and let the majority decide. Agreeing with the majority earns every participant a pass; the checked
 * node's disagreement confirmed by a majority is fraud, with the signed receipts as evidence.
 */
export class SpotChecker {
  readonly #reRun: ReRun;
  readonly #minResponses: number;

  constructor(options: { reRun: ReRun; minResponses?: number }) {
    this.#reRun = options.reRun;
    this.#minResponses = options.minResponses ?? 2;
  }

  async check(options: {
    receipt: SignedReceipt;
    receiptHash: string;
    request: InferenceRequest;
    result: InferenceResult;
    checkers: readonly CheckerNode[];
    tolerance: number;
    nowMs: number;
  }): Promise<SpotCheckOutcome> {
    const { receipt, receiptHash, request, result, tolerance, nowMs } = options;
    const node = receipt.body.nodeId;
    const verdict = (nodeId: string, status: Verdict['status'], reason: string, details: Record<string, unknown> = {}): Verdict => ({
      id: `spot:${receiptHash}:${nodeId}`,
      nodeId,
      kind: 'spot-check',
      status,
      reason,
      atMs: nowMs,
      details: { receiptHash, modelName: receipt.body.modelName, ...details },
    });
    const inconclusive = (reason: string, extra: Verdict[] = []): SpotCheckOutcome => ({ status: 'inconclusive', reason, verdicts: [verdict(node, 'inconclusive', reason), ...extra] });

    const [inputDigest, outputDigest] = await Promise.all([digestOfRequest(request), digestOf(result)]);
    // Evidence the node did not sign cannot convict it.
    if (inputDigest !== receipt.body.inputDigest || outputDigest !== receipt.body.outputDigest) return inconclusive('EVIDENCE_MISMATCH');

    const answers: Answer[] = [];
    const checkerVerdicts: Verdict[] = [];
    await Promise.all(
      options.checkers.map(async (checker) => {
        if (checker.nodeId === node) return;
        let answer: Awaited<ReturnType<ReRun>>;
        try {
          answer = await this.#reRun(checker, request);
        } catch {
          return; // an unreachable checker is no evidence either way
        }
        const b = answer.receipt?.body;
        const valid =
          b?.nodeId === checker.nodeId &&
          b.modelContentId === receipt.body.modelContentId &&
          b.inputDigest === inputDigest &&
          b.outputDigest === (await digestOf(answer.result)) &&
          (await isValidSignature('receipt', answer.receipt));
        if (!valid) checkerVerdicts.push(verdict(checker.nodeId, 'invalid', 'BAD_CHECK_RECEIPT'));
        else answers.push({ checker, value: comparable(answer.result), receipt: answer.receipt });
      }),
    );
    answers.sort((a, b) => (a.checker.nodeId < b.checker.nodeId ? -1 : 1));
    if (answers.length < this.#minResponses) return inconclusive('TOO_FEW_CHECKERS', checkerVerdicts);

    const original = comparable(result);
    const agree = answers.filter((a) => maxAbsDifference(original, a.value) <= tolerance);
    const majority = (n: number) => n * 2 > answers.length;
    const judged = (winners: Answer[]) =>
      answers.map((a) => (winners.includes(a) ? verdict(a.checker.nodeId, 'pass', 'AGREED_WITH_CONSENSUS') : verdict(a.checker.nodeId, 'invalid', 'DISAGREED_WITH_CONSENSUS')));

    if (majority(agree.length)) {
      return { status: 'pass', reason: 'AGREED_WITH_CONSENSUS', verdicts: [verdict(node, 'pass', 'AGREED_WITH_CONSENSUS'), ...judged(agree), ...checkerVerdicts] };
    }
    const others = answers.filter((a) => !agree.includes(a));
    let cluster: Answer[] = [];
    for (const a of others) {
      const near = others.filter((b) => maxAbsDifference(a.value, b.value) <= tolerance);
      if (near.length > cluster.length) cluster = near;
    }
    if (!majority(cluster.length)) return inconclusive('NO_CONSENSUS', [...judged([]), ...checkerVerdicts]);

    const difference = maxAbsDifference(original, cluster[0]!.value);
    const fraud: FraudRecord = {
      evidenceId: receiptHash,
      nodeId: node,
      modelName: receipt.body.modelName,
      modelVersion: receipt.body.modelVersion,
      modelContentId: receipt.body.modelContentId,
      inputDigest,
      claimedOutputDigest: outputDigest,
      consensusOutputDigest: cluster[0]!.receipt.body.outputDigest,
      maxAbsDifference: Number.isFinite(difference) ? difference : null,
      tolerance,
      receipt,
      consensusReceipts: cluster.map((a) => a.receipt),
      atMs: nowMs,
    };
    const details = { maxAbsDifference: fraud.maxAbsDifference, tolerance, checkers: cluster.map((a) => a.checker.nodeId) };
    return { status: 'fraud', reason: 'OUTPUT_MISMATCH', verdicts: [verdict(node, 'fraud', 'OUTPUT_MISMATCH', details), ...judged(cluster), ...checkerVerdicts], fraud };
  }
}
