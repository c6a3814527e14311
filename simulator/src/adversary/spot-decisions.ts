/**
 * The refereed spot-check decision, made by the oracle's own `SpotChecker` on real signed receipts.
 * Who is convicted depends only on what each party answered (right, the node's wrong output, a
 * coordinated frame output, or nothing), the order of the checkers and whether the sample is audited;
 * so each distinct situation runs `SpotChecker.check` once (template keys sign the receipts: the
 * check verifies every checker's signature and digests) and the outcome is mapped onto the nodes
 * actually drawn. The referee is the oracle re-running the model: it answers right.
 */
import { SpotChecker, type InferenceRequest, type SpotCheckOutcome } from '@hexedge/coverage-oracle';
import {
  generateNodeKeyPair,
  signBody,
  tensorsDigest,
  type NodeKeyPair,
  type SignedReceipt,
  type Tensor,
} from '@hexedge/protocol';

/** What a party returns for the sampled request. */
export type Answer = 'right' | 'wrong' | 'frame' | 'silent';

export interface Situation {
  node: 'right' | 'wrong';
  checkers: readonly Answer[];
  audit: boolean;
}

export interface Decision {
  node: 'pass' | 'fraud' | 'inconclusive';
  /** Per drawn checker, in order: its verdict, or undefined when it did not answer. */
  checkers: ReadonlyArray<'pass' | 'fraud' | 'invalid' | undefined>;
  /** Checker answers counted (each a model run), and whether the referee ran the model. */
  checkerRuns: number;
  refereeRan: boolean;
  reason: string;
}

const MODEL = { modelName: 'comfort-index', modelVersion: '1.0.0', modelContentId: 'a1'.repeat(32) };
const tensors = (v: number): Tensor[] => [{ name: 'score', datatype: 'FP32', shape: [1, 1], data: [v] }];
const OUTPUTS: Record<Exclude<Answer, 'silent'>, Tensor[]> = {
  right: tensors(0.5),
  wrong: tensors(0.9),
  frame: tensors(0.1),
};
const INPUTS: Tensor[] = [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [22, 45, 700] }];
const REQUEST: InferenceRequest = {
  kind: 'tensors',
  modelName: MODEL.modelName,
  modelVersion: MODEL.modelVersion,
  inputs: INPUTS,
};
/** The checked node's and every checker's template service time: verification compute is counted in runs. */
const SERVICE_MS = 1;

export class SpotDecisions {
  readonly #minResponses: number;
  readonly #tolerance: number;
  readonly #cache = new Map<string, Decision>();
  #node!: NodeKeyPair;
  #checkers: NodeKeyPair[] = [];
  readonly #receipts = new Map<string, SignedReceipt>();
  /** SpotChecker.check runs (distinct situations met). */
  runs = 0;

  constructor(o: { minResponses: number; tolerance: number }) {
    this.#minResponses = o.minResponses;
    this.#tolerance = o.tolerance;
  }

  async init(maxCheckers: number): Promise<void> {
    this.#node = await generateNodeKeyPair();
    this.#checkers = await Promise.all(Array.from({ length: maxCheckers }, () => generateNodeKeyPair()));
    const inputDigest = await tensorsDigest(INPUTS);
    for (const keys of [this.#node, ...this.#checkers])
      for (const [answer, outputs] of Object.entries(OUTPUTS)) {
        const body = {
          nodeId: keys.nodeId,
          requestId: 'sampled',
          ...MODEL,
          inputDigest,
          outputDigest: await tensorsDigest(outputs),
          issuedAtMs: 1,
          serviceTimeMs: SERVICE_MS,
        };
        this.#receipts.set(
          `${keys.nodeId}:${answer}`,
          (await signBody('receipt', body, keys.privateKey)) as SignedReceipt,
        );
      }
  }

  async decide(s: Situation): Promise<Decision> {
    const key = `${s.node}|${s.checkers.join(',')}|${s.audit}`;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    if (s.checkers.length > this.#checkers.length)
      throw new Error(`${s.checkers.length} checkers, templates for ${this.#checkers.length}`);
    const drawn = this.#checkers.slice(0, s.checkers.length);
    const answerOf = new Map(drawn.map((k, i) => [k.nodeId, s.checkers[i]!]));
    let refereeRuns = 0;
    let clock = 0;
    const spot = new SpotChecker({
      reRun: async (checker) => {
        const answer = answerOf.get(checker.nodeId)!;
        if (answer === 'silent') throw new Error('no answer');
        return {
          result: { kind: 'tensors', outputs: OUTPUTS[answer] },
          receipt: this.#receipts.get(`${checker.nodeId}:${answer}`)!,
        };
      },
      referee: async () => (refereeRuns++, { kind: 'tensors', outputs: OUTPUTS.right }),
      minResponses: this.#minResponses,
      clockMs: () => clock++,
    });
    const outcome: SpotCheckOutcome = await spot.check({
      receipt: this.#receipts.get(`${this.#node.nodeId}:${s.node}`)!,
      receiptHash: 'f'.repeat(64),
      request: REQUEST,
      result: { kind: 'tensors', outputs: OUTPUTS[s.node] },
      checkers: drawn.map((k) => ({ nodeId: k.nodeId })),
      modelContentId: MODEL.modelContentId,
      tolerance: this.#tolerance,
      nowMs: 1,
      audit: s.audit,
    });
    this.runs++;
    const statusOf = (id: string) => {
      const v = outcome.verdicts.find((x) => x.nodeId === id);
      return v?.status as 'pass' | 'fraud' | 'invalid' | 'inconclusive' | undefined;
    };
    const nodeStatus = statusOf(this.#node.nodeId);
    const decision: Decision = {
      node: nodeStatus === 'pass' || nodeStatus === 'fraud' ? nodeStatus : 'inconclusive',
      checkers: drawn.map((k) => {
        const st = statusOf(k.nodeId);
        return st === 'inconclusive' ? undefined : st;
      }),
      checkerRuns: outcome.checkerMs / SERVICE_MS,
      refereeRan: refereeRuns > 0,
      reason: outcome.reason,
    };
    this.#cache.set(key, decision);
    return decision;
  }
}
