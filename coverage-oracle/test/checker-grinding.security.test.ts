import {
  canonicalBytes,
  sha256Hex,
  signBody,
  tensorsDigest,
  type NodeKeyPair,
  type SignedReceipt,
  type Tensor,
} from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReRun } from '../src/spot-check/spot-checker.ts';
import { makeOracle } from './fixtures/oracle.ts';
import { keys, MODEL, signReceipt, signReport, tensorsFor } from './fixtures/reports.ts';

/**
 * Checker grinding: a cheating node chooses fields of its own receipts (service time, issue time),
 * so if checkers were a public function of the receipt it could sign variants until its own sybils
 * hold the checker slots, and they would vouch for its altered output. The attacker below knows the
 * network's candidates and the public rendezvous order (FNV-1a of `receiptHash:nodeId`, what the
 * oracle used) and grinds each receipt until both of its sybils are among the three checkers.
 */
const NOW = Date.UTC(2025, 5, 1, 12, 30);
const SLOTS = 3;
const RECEIPTS = 8;
let oracleKeys: NodeKeyPair,
  gateway: NodeKeyPair,
  cheater: NodeKeyPair,
  sybils: NodeKeyPair[],
  honest: NodeKeyPair[];

/** The model doubles its input; the cheater and its sybils add 0.5 to save work. */
const model = (inputs: Tensor[]) => tensorsFor((inputs[0]!.data as number[]).map((v) => v * 2));
const cheat = (inputs: Tensor[]) => tensorsFor((inputs[0]!.data as number[]).map((v) => v * 2 + 0.5));

beforeAll(async () => {
  [oracleKeys, gateway, cheater, ...honest] = await keys(9);
  sybils = honest.splice(0, 2);
});

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
const publicOrder = (receiptHash: string, candidates: string[]) =>
  [...candidates]
    .sort((a, b) => fnv1a(`${receiptHash}:${a}`) - fnv1a(`${receiptHash}:${b}`) || (a < b ? -1 : 1))
    .slice(0, SLOTS);

async function groundReceipt(
  i: number,
  candidates: string[],
): Promise<{ receipt: SignedReceipt; inputs: Tensor[]; outputs: Tensor[]; tries: number }> {
  const inputs = tensorsFor([i, i + 1, i + 2], 'readings');
  const outputs = cheat(inputs);
  const [inputDigest, outputDigest] = await Promise.all([tensorsDigest(inputs), tensorsDigest(outputs)]);
  const sybilIds = sybils.map((s) => s.nodeId);
  for (let tries = 1; tries < 10_000; tries++) {
    const body = {
      nodeId: cheater.nodeId,
      requestId: `req-${i}`,
      ...MODEL,
      inputDigest,
      outputDigest,
      issuedAtMs: NOW,
      serviceTimeMs: tries / 100,
    };
    const receipt = (await signBody('receipt', body, cheater.privateKey)) as SignedReceipt;
    const picked = publicOrder(await sha256Hex(canonicalBytes(receipt)), candidates);
    if (sybilIds.every((id) => picked.includes(id))) return { receipt, inputs, outputs, tries };
  }
  throw new Error('grinding failed');
}

describe('checker grinding', () => {
  it('a node that grinds its receipts so its sybils hold the checker slots is still caught, and the draw is not the public order', async () => {
    const byId = new Map([...sybils, ...honest].map((k) => [k.nodeId, k]));
    const sybilIds = new Set(sybils.map((s) => s.nodeId));
    const reRun: ReRun = async (node, request) => {
      if (request.kind !== 'tensors') throw new Error('tensors only');
      const outputs = sybilIds.has(node.nodeId) ? cheat(request.inputs) : model(request.inputs);
      return {
        result: { kind: 'tensors', outputs },
        receipt: await signReceipt(byId.get(node.nodeId)!, {
          requestId: 'recheck',
          inputs: request.inputs,
          outputs,
          issuedAtMs: NOW,
        }),
      };
    };
    const { oracle, directory, store } = makeOracle({
      oracleKeys,
      nowMs: NOW,
      reRun,
      referee: async (request) => {
        if (request.kind !== 'tensors') throw new Error('tensors only');
        return { kind: 'tensors', outputs: model(request.inputs) };
      },
      config: {
        samplingRate: 1,
        checkersPerSample: SLOTS,
        minCheckerResponses: 2,
        seasoningPasses: 0,
        seasoningMs: 0,
      },
    });
    directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
    const everyone = [cheater, ...sybils, ...honest];
    for (const [i, k] of everyone.entries()) {
      const location = { lat: 52 + i / 100, lng: 5 };
      directory.putNode({
        nodeId: k.nodeId,
        location,
        url: `http://127.0.${i + 1}.1:8080`,
        models: [MODEL.modelName],
      });
      oracle.ledger.bond({ nodeId: k.nodeId, amountBaseUnits: 10n ** 12n, atMs: NOW - 1000 });
      store.saveVerdicts([
        {
          id: `loc:${k.nodeId}`,
          nodeId: k.nodeId,
          kind: 'location',
          status: 'verified',
          reason: 'VERIFIED',
          atMs: NOW - 1000,
          details: { locationTrust: 0.9, claim: location },
        },
      ]);
    }
    await oracle.tick(NOW);

    const candidates = [...sybils, ...honest].map((k) => k.nodeId);
    const ground = await Promise.all(
      Array.from({ length: RECEIPTS }, (_, i) => groundReceipt(i, candidates)),
    );
    const reports = await Promise.all(
      ground.map((g) =>
        signReport(
          gateway,
          {
            type: 'receipt',
            receipt: g.receipt,
            request: {
              kind: 'tensors',
              modelName: MODEL.modelName,
              modelVersion: MODEL.modelVersion,
              inputs: g.inputs,
            },
            result: { kind: 'tensors', outputs: g.outputs },
          },
          NOW,
        ),
      ),
    );
    expect((await oracle.ingest.submitBatch(reports, NOW)).every((r) => r.accepted)).toBe(true);
    await oracle.tick(NOW + 1);

    const verdicts = store.listVerdicts({});
    const draws = await Promise.all(
      ground.map(async (g) => {
        const hash = await sha256Hex(canonicalBytes(g.receipt));
        const drawn = verdicts
          .filter((v) => v.id.startsWith(`spot:${hash}:`) && v.nodeId !== cheater.nodeId)
          .map((v) => v.nodeId);
        return { drawn: drawn.sort(), ground: publicOrder(hash, candidates).sort() };
      }),
    );
    // Caught on every ground receipt; no honest checker is blamed for disagreeing with the sybils.
    const frauds = verdicts.filter(
      (v) => v.nodeId === cheater.nodeId && v.kind === 'spot-check' && v.status === 'fraud',
    );
    expect(frauds).toHaveLength(RECEIPTS);
    const blamed = verdicts.filter(
      (v) => honest.some((h) => h.nodeId === v.nodeId) && v.kind === 'spot-check' && v.status !== 'pass',
    );
    expect(blamed).toEqual([]);
    // The draw is the oracle's secret, not the order the attacker ground against.
    expect(draws.every((d) => d.drawn.length > 0)).toBe(true);
    expect(draws.filter((d) => d.drawn.join() === d.ground.join()).length).toBeLessThan(RECEIPTS / 2);
  });
});
