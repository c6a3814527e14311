import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeKeyPair, SignedReceipt, Tensor } from '@hexedge/protocol';
import { keys, MODEL, signReceipt, tensorsFor } from '../../test/fixtures/reports.ts';
import { bindToCatalogue, type CatalogueView } from './catalogue-binding.ts';
import { SpotChecker, type InferenceRequest, type Referee, type ReRun } from './spot-checker.ts';

const NOW = 1_750_000_000_000;
const right = (inputs: Tensor[]) => tensorsFor((inputs[0]!.data as number[]).map((v) => v * 2));
const wrong = (inputs: Tensor[]) => tensorsFor((inputs[0]!.data as number[]).map((v) => v * 2 + 0.5));
let node: NodeKeyPair, honest: NodeKeyPair, liar: NodeKeyPair;
beforeAll(async () => {
  [node, honest, liar] = await keys(3);
});

const inputs = tensorsFor([1, 2, 3], 'readings');
const request: InferenceRequest = {
  kind: 'tensors',
  modelName: MODEL.modelName,
  modelVersion: MODEL.modelVersion,
  inputs,
};

function checker(answers: Map<string, (inputs: Tensor[]) => Tensor[]>, signers: NodeKeyPair[]): ReRun {
  return async (c, r) => {
    if (r.kind !== 'tensors') throw new Error('tensors only');
    const outputs = answers.get(c.nodeId)!(r.inputs);
    const signer = signers.find((s) => s.nodeId === c.nodeId)!;
    return {
      result: { kind: 'tensors', outputs },
      receipt: await signReceipt(signer, { requestId: 'x', inputs: r.inputs, outputs, issuedAtMs: NOW }),
    };
  };
}

async function check(options: {
  nodeAnswer: (i: Tensor[]) => Tensor[];
  checkers: Array<[NodeKeyPair, (i: Tensor[]) => Tensor[]]>;
  referee?: Referee;
  minResponses?: number;
  audit?: boolean;
}) {
  const outputs = options.nodeAnswer(inputs);
  const receipt: SignedReceipt = await signReceipt(node, {
    requestId: 'r',
    inputs,
    outputs,
    issuedAtMs: NOW,
  });
  let refereeRuns = 0;
  const spot = new SpotChecker({
    reRun: checker(
      new Map(options.checkers.map(([k, f]) => [k.nodeId, f])),
      options.checkers.map(([k]) => k),
    ),
    ...(options.referee ? { referee: async (r) => (refereeRuns++, options.referee!(r)) } : {}),
    minResponses: options.minResponses ?? 2,
  });
  const outcome = await spot.check({
    receipt,
    receiptHash: 'h'.repeat(64),
    request,
    result: { kind: 'tensors', outputs },
    checkers: options.checkers.map(([k]) => ({ nodeId: k.nodeId })),
    modelContentId: MODEL.modelContentId,
    tolerance: 1e-4,
    nowMs: NOW,
    ...(options.audit ? { audit: true } : {}),
  });
  return {
    outcome,
    refereeRuns,
    statusOf: (k: NodeKeyPair) => outcome.verdicts.find((v) => v.nodeId === k.nodeId)?.status,
  };
}
const referee: Referee = async (r) => ({
  kind: 'tensors',
  outputs: right((r as { inputs: Tensor[] }).inputs),
});

describe('refereed spot checks', () => {
  it('passes everyone without the referee when the checkers agree with the node', async () => {
    const { outcome, refereeRuns } = await check({
      nodeAnswer: right,
      checkers: [
        [honest, right],
        [liar, right],
      ],
      referee,
    });
    expect(outcome).toMatchObject({ status: 'pass', reason: 'AGREED_WITH_CHECKERS', frauds: [] });
    expect(refereeRuns).toBe(0);
  });

  it('a lying checker cannot frame the node: the referee decides, and the checker is the fraud', async () => {
    const { outcome, refereeRuns, statusOf } = await check({
      nodeAnswer: right,
      checkers: [
        [honest, right],
        [liar, wrong],
      ],
      referee,
    });
    expect(refereeRuns).toBe(1);
    expect(outcome.status).toBe('pass');
    expect(statusOf(node)).toBe('pass');
    expect(statusOf(honest)).toBe('pass');
    expect(statusOf(liar)).toBe('fraud');
    expect(outcome.frauds).toEqual([
      expect.objectContaining({
        nodeId: liar.nodeId,
        role: 'checker',
        evidenceId: `${'h'.repeat(64)}:${liar.nodeId}`,
      }),
    ]);
    // Two liars agreeing with each other frame nobody either.
    const two = await check({
      nodeAnswer: right,
      checkers: [
        [honest, wrong],
        [liar, wrong],
      ],
      referee,
    });
    expect(two.outcome.status).toBe('pass');
    expect(two.outcome.frauds.map((f) => f.role)).toEqual(['checker', 'checker']);
  });

  it('convicts a lying node only on the referee’s output, with every receipt as evidence', async () => {
    const { outcome } = await check({
      nodeAnswer: wrong,
      checkers: [
        [honest, right],
        [liar, right],
      ],
      referee,
    });
    expect(outcome.status).toBe('fraud');
    const [fraud] = outcome.frauds;
    expect(fraud).toMatchObject({
      nodeId: node.nodeId,
      role: 'node',
      maxAbsDifference: 0.5,
      refereeOutputDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(fraud!.receipts).toHaveLength(3);
    // Too few checkers: the referee alone decides.
    expect((await check({ nodeAnswer: wrong, checkers: [], referee })).outcome.status).toBe('fraud');
    expect((await check({ nodeAnswer: right, checkers: [], referee })).outcome.status).toBe('pass');
  });

  it('without a referee, or when it fails, a dispute convicts nobody', async () => {
    for (const r of [undefined, (async () => Promise.reject(new Error('model not found'))) as Referee]) {
      const { outcome } = await check({
        nodeAnswer: right,
        checkers: [
          [honest, wrong],
          [liar, wrong],
        ],
        ...(r ? { referee: r } : {}),
      });
      expect(outcome.status).toBe('inconclusive');
      expect(outcome.frauds).toEqual([]);
      expect(outcome.verdicts.filter((v) => v.status === 'fraud')).toEqual([]);
    }
  });
});

describe('audits', () => {
  it('a cartel agreeing with a cheater passes an ordinary check, and is caught, all of it, by an audit', async () => {
    const cartel: Array<[NodeKeyPair, (i: Tensor[]) => Tensor[]]> = [
      [honest, wrong],
      [liar, wrong],
    ];
    expect((await check({ nodeAnswer: wrong, checkers: cartel, referee })).outcome.status).toBe('pass');
    const audited = await check({ nodeAnswer: wrong, checkers: cartel, referee, audit: true });
    expect(audited.refereeRuns).toBe(1);
    expect(audited.outcome.status).toBe('fraud');
    expect(audited.outcome.frauds.map((f) => f.role).sort()).toEqual(['checker', 'checker', 'node']);
    // An audit of an honest check costs a referee run and changes nothing.
    const honestAudit = await check({
      nodeAnswer: right,
      checkers: [
        [honest, right],
        [liar, right],
      ],
      referee,
      audit: true,
    });
    expect(honestAudit.outcome).toMatchObject({ status: 'pass', frauds: [] });
  });
});

describe('bindToCatalogue', () => {
  const COMFORT = 'a'.repeat(64);
  const catalogue: CatalogueView = {
    contentIdOf: (name, version) => (name === 'comfort-index' && version === '1' ? COMFORT : undefined),
    knowsName: (name) => name === 'comfort-index',
    modelOf: (id) => (id === COMFORT ? { name: 'comfort-index', version: '1' } : undefined),
  };
  const receipt = (body: Record<string, unknown>) =>
    ({
      body: { nodeId: 'n', modelName: 'comfort-index', modelVersion: '1', modelContentId: COMFORT, ...body },
      signature: 's',
    }) as unknown as SignedReceipt;
  const bind = (
    body: Record<string, unknown>,
    requested = { modelName: 'comfort-index', modelVersion: '1' },
  ) => bindToCatalogue({ receipt: receipt(body), requested, catalogue });

  it('binds name, version and content id to the catalogue, not to the node’s word', () => {
    expect(bind({})).toEqual({ status: 'bound', contentId: COMFORT });
    expect(bind({ modelContentId: 'f'.repeat(64) })).toMatchObject({
      status: 'fraud',
      reason: 'CONTENT_ID_NOT_IN_CATALOGUE',
    });
    expect(bind({ modelVersion: '9' }, { modelName: 'comfort-index', modelVersion: '9' })).toMatchObject({
      status: 'fraud',
      reason: 'VERSION_NOT_IN_CATALOGUE',
    });
    expect(bind({ modelName: 'premium' }, { modelName: 'premium', modelVersion: '1' })).toMatchObject({
      status: 'fraud',
      reason: 'MODEL_NAME_NOT_IN_CATALOGUE',
    });
    expect(bind({ modelName: 'premium' })).toMatchObject({
      status: 'fraud',
      reason: 'NOT_THE_REQUESTED_MODEL',
    });
    // A model of its own the catalogue does not list: nothing to bind it to, nothing earned.
    expect(
      bind({ modelName: 'own', modelContentId: 'b'.repeat(64) }, { modelName: 'own', modelVersion: '1' }),
    ).toEqual({ status: 'unknown', reason: 'MODEL_NOT_IN_CATALOGUE' });
  });
});
