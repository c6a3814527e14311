import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeKeyPair, Sha256Hex, Tensor } from '@hexedge/protocol';
import { nodeSha256Hex } from '@hexedge/protocol/node';
import { makeOracle, RecordingSink } from '../../test/fixtures/oracle.ts';
import { keys, MODEL, signReceipt, signReport, tensorsFor } from '../../test/fixtures/reports.ts';
import { isSampled, receiptHash } from './sampling.ts';
import type { ReRun } from './spot-checker.ts';
import { maxAbsDifference } from './compare.ts';

const NOW = Date.UTC(2025, 5, 1, 12, 30);
const RATE = 0.2;
const RECEIPTS = 100;
let oracleKeys: NodeKeyPair, gateway: NodeKeyPair, cheater: NodeKeyPair, checkers: NodeKeyPair[];

/** The model: doubles its input. Honest nodes compute it; the cheater adds 0.5 to save work. */
const model = (inputs: Tensor[]) => tensorsFor((inputs[0]!.data as number[]).map((v) => v * 2));

beforeAll(async () => {
  [oracleKeys, gateway, cheater, ...checkers] = await keys(6);
});

async function setup(options: { sha256?: Sha256Hex } = {}) {
  const byId = new Map(checkers.map((k) => [k.nodeId, k]));
  const reRun: ReRun = async (node, request) => {
    const signer = byId.get(node.nodeId)!;
    if (request.kind !== 'tensors') throw new Error('tensors only');
    const outputs = model(request.inputs);
    return {
      result: { kind: 'tensors', outputs },
      receipt: await signReceipt(signer, {
        requestId: 'recheck',
        inputs: request.inputs,
        outputs,
        issuedAtMs: NOW,
      }),
    };
  };
  const sink = new RecordingSink();
  const env = makeOracle({
    oracleKeys,
    nowMs: NOW,
    reRun,
    // The oracle's own run of the model: the referee when the checkers disagree with the node.
    referee: async (request) => {
      if (request.kind !== 'tensors') throw new Error('tensors only');
      return { kind: 'tensors', outputs: model(request.inputs) };
    },
    sink,
    ...(options.sha256 ? { sha256: options.sha256 } : {}),
    config: {
      samplingRate: RATE,
      // Several checkers per sample (the default is one, with the referee): evidence carrying the
      // checkers' receipts and checkers that agree with each other are what this file tests.
      checkersPerSample: 3,
      minCheckerResponses: 2,
      epochMs: 3_600_000,
      seasoningPasses: 0,
      seasoningMs: 0,
    },
  });
  env.directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
  for (const [i, k] of [cheater, ...checkers].entries()) {
    const location = { lat: 52, lng: 5 + i / 100 };
    env.directory.putNode({
      nodeId: k.nodeId,
      location,
      url: `http://192.0.${i}.1:8080`,
      models: [MODEL.modelName],
    });
  }
  // The checkers have standing: bonded, and verified where they claim to be.
  for (const [i, k] of checkers.entries()) {
    env.oracle.ledger.bond({ nodeId: k.nodeId, amountBaseUnits: 10n ** 12n, atMs: NOW - 1 });
    env.store.saveVerdicts([
      {
        id: `loc:${k.nodeId}`,
        nodeId: k.nodeId,
        kind: 'location',
        status: 'verified',
        atMs: NOW - 1,
        details: { locationTrust: 0.9, claim: { lat: 52, lng: 5 + (i + 1) / 100 } },
      },
    ]);
  }
  await env.oracle.tick(NOW - 1);
  for (const k of checkers) expect(env.oracle.isVerifier(k.nodeId)).toBe(true);
  return { ...env, sink };
}

async function receiptReport(node: NodeKeyPair, i: number, alter: number) {
  const inputs = tensorsFor([i, i + 1, i + 2], 'readings');
  const outputs = tensorsFor((model(inputs)[0]!.data as number[]).map((v) => v + alter));
  const receipt = await signReceipt(node, { requestId: `req-${i}`, inputs, outputs, issuedAtMs: NOW });
  const body = {
    type: 'receipt',
    receipt,
    request: { kind: 'tensors', modelName: MODEL.modelName, modelVersion: MODEL.modelVersion, inputs },
    result: { kind: 'tensors', outputs },
  };
  return { report: await signReport(gateway, body, NOW), receipt };
}

describe('sampling draws with an injected SHA-256', () => {
  it('draws exactly as WebCrypto for every rate, including edge values', async () => {
    const rates = [0, -0, -1, NaN, Infinity, 1, 1e-300, 2 ** -48, 0.025, 0.2, 0.5, 0.999999, 1 - 2 ** -48];
    const seeds = ['', 'AA', 'c2VlZC1vbmU', 'x'.repeat(64)];
    const async: Sha256Hex = async (bytes) => nodeSha256Hex(bytes);
    for (let i = 0; i < 300; i++) {
      const receiptHash = nodeSha256Hex.utf8(`receipt ${i}`);
      for (const seed of seeds)
        for (const rate of rates) {
          const expected = await isSampled({ receiptHash, seed, rate });
          expect(await isSampled({ receiptHash, seed, rate, sha256: nodeSha256Hex })).toBe(expected);
          expect(await isSampled({ receiptHash, seed, rate, sha256: async })).toBe(expected);
        }
    }
    // A seed that is not base64url is refused alike.
    await expect(isSampled({ receiptHash: 'ab', seed: '+/', rate: 0.5 })).rejects.toThrow('not base64url');
    await expect(
      isSampled({ receiptHash: 'ab', seed: '+/', rate: 0.5, sha256: nodeSha256Hex }),
    ).rejects.toThrow('not base64url');
  });
});

describe('compare', () => {
  it('measures differences and treats structural ones as infinite', () => {
    expect(maxAbsDifference([1, 2, 3], [1, 2.00005, 3])).toBeCloseTo(0.00005);
    expect(maxAbsDifference({ label: 'a' }, { label: 'b' })).toBe(Infinity);
    expect(maxAbsDifference([1, 2], [1, 2, 3])).toBe(Infinity);
  });
});

describe('spot checks through the oracle', () => {
  it('catches a node returning altered outputs at the sampling rate, slashes once per evidence, and drops its trust', async () => {
    const { oracle, store, sink } = await setup();
    oracle.ledger.bond({ nodeId: cheater.nodeId, amountBaseUnits: 1_000_000n, atMs: NOW });
    const reports = await Promise.all(
      Array.from({ length: RECEIPTS }, (_, i) => receiptReport(cheater, i, 0.5)),
    );
    const results = await oracle.ingest.submitBatch(
      reports.map((r) => r.report),
      NOW,
    );
    expect(results.every((r) => r.accepted)).toBe(true);
    await oracle.tick(NOW);

    // Which receipts had to be checked is recomputable from the published seed.
    const seed = await (
      await import('../rewards/epochs.ts')
    ).samplingSeedFor({
      secret: new TextEncoder().encode('test sampling secret, 32 bytes!!'),
      epoch: oracle.clock.epochOf(NOW),
    });
    const expected = [];
    for (const r of reports)
      if (await isSampled({ receiptHash: await receiptHash(r.receipt), seed, rate: RATE })) expected.push(r);
    expect(expected.length).toBeGreaterThan(RECEIPTS * RATE * 0.4);
    expect(expected.length).toBeLessThan(RECEIPTS * RATE * 1.8);

    const frauds = store.listVerdicts({ nodeId: cheater.nodeId }).filter((v) => v.status === 'fraud');
    expect(frauds).toHaveLength(expected.length);
    expect(frauds[0]).toMatchObject({
      kind: 'spot-check',
      reason: 'OUTPUT_MISMATCH',
      details: { maxAbsDifference: 0.5, slashed: true, referee: 'DISPUTED' },
    });
    const slashes = oracle.ledger.slashes(cheater.nodeId);
    expect(slashes).toHaveLength(expected.length);
    // The evidence carries the node's and the checkers' signed receipts and the referee's output.
    const evidence = store.listStakeEvents(cheater.nodeId).find((e) => e.type === 'slash')!.evidence as {
      receipt: unknown;
      receipts: unknown[];
      refereeOutputDigest: string;
    };
    expect(evidence.receipts.length).toBeGreaterThanOrEqual(3);
    expect(evidence.refereeOutputDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(expected.map((r) => r.receipt)).toContainEqual(evidence.receipt);

    // The same evidence forwarded again is judged again but never slashed twice.
    const balance = oracle.ledger.balanceOf(cheater.nodeId);
    const {
      nonce: _nonce,
      issuedAtMs: _at,
      ...sameEvidence
    } = expected[0]!.report.body as Record<string, unknown>;
    const again = await signReport(gateway, sameEvidence, NOW);
    expect((await oracle.ingest.submit(again, NOW)).accepted).toBe(true);
    await oracle.tick(NOW + 1000);
    expect(oracle.ledger.slashes(cheater.nodeId)).toHaveLength(expected.length);
    expect(oracle.ledger.balanceOf(cheater.nodeId)).toBe(balance);

    // Trust: the cheater is capped low; the checkers who agreed with each other gained.
    expect(sink.trust.get(cheater.nodeId)!.score).toBeLessThanOrEqual(0.1);
    expect(sink.trust.get(cheater.nodeId)!.reasons.join(' ')).toMatch(/FRAUD/);
    for (const c of checkers) expect(sink.trust.get(c.nodeId)!.score).toBeGreaterThan(0.5);
  });

  it('passes an honest node, within the tolerance', async () => {
    const { oracle, store, sink } = await setup();
    // Receipts until three are sampled: the node keys are new each run, so a fixed count could draw none
    // (0.8^30 ≈ 0.1 % of runs did).
    const seed = await (
      await import('../rewards/epochs.ts')
    ).samplingSeedFor({
      secret: new TextEncoder().encode('test sampling secret, 32 bytes!!'),
      epoch: oracle.clock.epochOf(NOW),
    });
    const reports = [];
    let sampled = 0;
    for (let i = 0; sampled < 3; i++) {
      const r = await receiptReport(checkers[0]!, i, 0.00001);
      reports.push(r);
      if (await isSampled({ receiptHash: await receiptHash(r.receipt), seed, rate: RATE })) sampled++;
    }
    await oracle.ingest.submitBatch(
      reports.map((r) => r.report),
      NOW,
    );
    await oracle.tick(NOW);
    const checks = store.listVerdicts({ nodeId: checkers[0]!.nodeId }).filter((v) => v.kind === 'spot-check');
    expect(checks).toHaveLength(3);
    expect(checks.every((v) => v.status === 'pass')).toBe(true);
    expect(sink.trust.get(checkers[0]!.nodeId)!.score).toBeGreaterThan(0.5);
    expect(store.listWork({ sinceMs: 0, untilMs: Infinity })).toHaveLength(reports.length);
  });

  it('judges alike with node:crypto SHA-256 injected (receipt hashes, sampling and audit draws, digests)', async () => {
    const runWith = async (sha256?: Sha256Hex) => {
      const { oracle, store } = await setup(sha256 ? { sha256 } : {});
      oracle.ledger.bond({ nodeId: cheater.nodeId, amountBaseUnits: 1_000_000n, atMs: NOW });
      // The cheater's answers (disputes, referee) and an honest node's (agreement, audits).
      const reports = await Promise.all([
        ...Array.from({ length: 60 }, (_, i) => receiptReport(cheater, i, 0.5)),
        ...Array.from({ length: 60 }, (_, i) => receiptReport(checkers[0]!, 100 + i, 0)),
      ]);
      await oracle.ingest.submitBatch(
        reports.map((r) => r.report),
        NOW,
      );
      await oracle.tick(NOW);
      const work = store
        .listWork({ sinceMs: 0, untilMs: Infinity })
        .map(({ checkerMs: _c, refereeMs: _r, ...w }) => w)
        .sort((a, b) => a.receiptHash.localeCompare(b.receiptHash));
      const verdicts = [cheater, checkers[0]!].flatMap((k) =>
        store
          .listVerdicts({ nodeId: k.nodeId })
          .filter((v) => v.kind === 'spot-check')
          .map((v) => ({ id: v.id, status: v.status, reason: v.reason, referee: v.details?.referee }))
          .sort((a, b) => a.id.localeCompare(b.id)),
      );
      return { work, verdicts, slashes: oracle.ledger.slashes(cheater.nodeId).length };
    };
    const webCrypto = await runWith();
    const injected = await runWith(nodeSha256Hex);
    expect(webCrypto.work).toHaveLength(120);
    expect(webCrypto.work.filter((w) => w.sampled).length).toBeGreaterThan(5);
    expect(webCrypto.slashes).toBeGreaterThan(0);
    expect(injected).toEqual(webCrypto);
  });
});
