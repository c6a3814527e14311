/**
 * Verification compute as a share of inference compute, with real models: an edge node answers
 * requests with comfort-index on onnxruntime-node; the oracle samples its receipts with the epoch seed,
 * re-runs each sample on independent checkers (the same model, on checkers with standing) and, on a
 * dispute, runs the referee itself. The row is model runs for verification per model run served
 * (each is the same model on the same input shape, so runs are compute); the oracle's own tally from
 * service times (`posp().verification`) is printed beside it, but comfort-index runs in ~50 µs, where
 * event-loop scheduling in one process blurs the timings. Two nodes: an honest one, and one that cheats
 * on 1 % of its requests (each caught sample costs a referee run).
 */
import { buildComfortIndexModel, comfortIndexManifest, type LoadedModel } from '@hexedge/edge-node';
import { OrtNodeBackend } from '@hexedge/edge-node/node';
import {
  CoverageOracle,
  MemoryDirectory,
  MemoryOracleStore,
  parseOracleConfig,
} from '@hexedge/coverage-oracle';
import {
  generateNodeKeyPair,
  randomNonce,
  signBody,
  tensorsDigest,
  tensorValuesToArray,
  type NodeKeyPair,
  type SignedReceipt,
  type Tensor,
} from '@hexedge/protocol';

export interface OverheadResult {
  requests: number;
  sampled: number;
  checkerRuns: number;
  refereeRuns: number;
  /** Model runs for verification per model run served: every run is the same model on the same input shape. */
  runShare: number;
  /** The oracle's own tally from service times (checkers' receipts, the referee's clock). */
  inferenceMs: number;
  checkerMs: number;
  refereeMs: number;
  timedShare: number;
  frauds: number;
}

/**
 * One run at a time on the one session, so each timed run is its own compute: the node, the checkers
 * and the referee are different machines in the fabric, here they share a process.
 */
let queue: Promise<unknown> = Promise.resolve();
function timed(model: LoadedModel, inputs: Tensor[]): Promise<{ outputs: Tensor[]; ms: number }> {
  const run = queue.then(async () => {
    const t = performance.now();
    const outputs = await model.run(inputs);
    return { outputs, ms: performance.now() - t };
  });
  queue = run.catch(() => {});
  return run;
}

async function receipt(
  keys: NodeKeyPair,
  o: { contentId: string; inputs: Tensor[]; outputs: Tensor[]; serviceTimeMs: number },
): Promise<SignedReceipt> {
  const [inputDigest, outputDigest] = await Promise.all([tensorsDigest(o.inputs), tensorsDigest(o.outputs)]);
  const body = {
    nodeId: keys.nodeId,
    requestId: randomNonce(),
    modelName: 'comfort-index',
    modelVersion: '1',
    modelContentId: o.contentId,
    inputDigest,
    outputDigest,
    issuedAtMs: Date.now(),
    serviceTimeMs: o.serviceTimeMs,
  };
  return (await signBody('receipt', body, keys.privateKey)) as SignedReceipt;
}

const flat = (tensors: Tensor[]) => tensors.map((t) => ({ ...t, data: tensorValuesToArray(t.data) }));

export async function measureVerificationOverhead(options: {
  requests: number;
  cheatRate: number;
  samplingRate?: number;
  checkersPerSample?: number;
}): Promise<OverheadResult> {
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  const model = await (await OrtNodeBackend.create()).load({ manifest, bytes });
  try {
    // Warm: the first runs of a fresh session are many times slower than the rest.
    for (let i = 0; i < 200; i++)
      await model.run([{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [22, 45, 700] }]);
    const [oracleKeys, gateway, node, ...checkers] = await Promise.all(
      Array.from({ length: 7 }, () => generateNodeKeyPair()),
    );
    const now = Date.now();
    let checkerRuns = 0;
    let refereeRuns = 0;
    const directory = new MemoryDirectory();
    const store = new MemoryOracleStore();
    const oracle = new CoverageOracle({
      config: parseOracleConfig({
        seasoningPasses: 0,
        seasoningMs: 0,
        scoreIntervalMs: 100,
        ...(options.samplingRate !== undefined ? { samplingRate: options.samplingRate } : {}),
        ...(options.checkersPerSample !== undefined ? { checkersPerSample: options.checkersPerSample } : {}),
      }),
      keys: oracleKeys!,
      samplingSecret: crypto.getRandomValues(new Uint8Array(32)),
      store,
      directory,
      reRun: async (checker, request) => {
        if (request.kind !== 'tensors') throw new Error('tensors only');
        checkerRuns++;
        const run = await timed(model, request.inputs);
        const keys = checkers.find((c) => c.nodeId === checker.nodeId)!;
        const signed = await receipt(keys, {
          contentId: manifest.contentId,
          inputs: request.inputs,
          outputs: run.outputs,
          serviceTimeMs: run.ms,
        });
        return { result: { kind: 'tensors', outputs: run.outputs }, receipt: signed };
      },
      referee: async (request) => {
        if (request.kind !== 'tensors') throw new Error('tensors only');
        refereeRuns++;
        return { kind: 'tensors', outputs: (await timed(model, request.inputs)).outputs };
      },
      nowMs: () => now,
    });
    directory.putReporter({ nodeId: gateway!.nodeId, roles: ['gateway'] });
    // The checkers have standing: bonded, verified where they claim, on their own /24s.
    for (const [i, k] of [node!, ...checkers].entries()) {
      const location = { lat: 52 + i / 100, lng: 5 };
      directory.putNode({
        nodeId: k.nodeId,
        location,
        url: `http://10.0.${i}.1:8080`,
        models: ['comfort-index'],
      });
      if (k === node) continue;
      oracle.ledger.bond({ nodeId: k.nodeId, amountBaseUnits: 10n ** 12n, atMs: now - 1 });
      store.saveVerdicts([
        {
          id: `loc:${k.nodeId}`,
          nodeId: k.nodeId,
          kind: 'location',
          status: 'verified',
          atMs: now - 1,
          details: { locationTrust: 0.9, claim: location },
        },
      ]);
    }
    await oracle.tick(now);

    const BATCH = 200;
    for (let i = 0; i < options.requests; i += BATCH) {
      const reports = [];
      for (let j = i; j < Math.min(options.requests, i + BATCH); j++) {
        const inputs: Tensor[] = [
          {
            name: 'readings',
            datatype: 'FP32',
            shape: [1, 3],
            data: [19 + (j % 11), 30 + ((j * 7) % 50), 450 + ((j * 97) % 1200)],
          },
        ];
        const run = await timed(model, inputs);
        const cheats = (j * 7919) % 10_000 < options.cheatRate * 10_000;
        const outputs = cheats
          ? run.outputs.map((t) => ({
              ...t,
              data: Float32Array.from(tensorValuesToArray(t.data) as number[], (v) => v + 0.25),
            }))
          : run.outputs;
        const r = await receipt(node!, {
          contentId: manifest.contentId,
          inputs,
          outputs,
          serviceTimeMs: run.ms,
        });
        const body = {
          type: 'receipt',
          nodeId: gateway!.nodeId,
          nonce: randomNonce(),
          issuedAtMs: now,
          receipt: r,
          request: { kind: 'tensors', modelName: 'comfort-index', modelVersion: '1', inputs: flat(inputs) },
          result: { kind: 'tensors', outputs: flat(outputs) },
        };
        reports.push(await signBody('report', body, gateway!.privateKey));
      }
      await oracle.ingest.submitBatch(reports, now);
      while ((await oracle.verifyStage.tick(now)) > 0);
    }
    const { verification } = oracle.posp(now);
    const work = store.listWork({ sinceMs: 0, untilMs: Number.POSITIVE_INFINITY });
    return {
      requests: work.length,
      sampled: work.filter((w) => w.sampled).length,
      checkerRuns,
      refereeRuns,
      runShare: (checkerRuns + refereeRuns) / work.length,
      inferenceMs: verification.inferenceMs,
      checkerMs: verification.checkerMs,
      refereeMs: verification.refereeMs,
      timedShare: verification.share ?? 0,
      frauds: work.filter((w) => w.status === 'fraud').length,
    };
  } finally {
    await model.release();
  }
}
