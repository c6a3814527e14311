import { buildComfortIndexModel, buildComfortIndexVariant, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';
import { inCanary, type RolloutView } from '@hexedge/gateway';
import { freePort, waitUntil, type Proc } from '@hexedge/test-kit';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  HERE,
  MODEL,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
  getNode,
  type GatewayOptions,
  type NodeHandle,
} from './fabric.ts';
import { recordScenario } from './report.ts';

/**
 * Chaos: a broken release of a model rolled out as a canary on a real fabric (`hexedge gateway` and
 * four `hexedge node` processes running ONNX Runtime). The gateway's origin holds comfort-index@1
 * (what every node serves), @3-broken (two labels swapped: it loads, runs fast and answers wrong) and
 * @2 (the same model rebuilt). Each node starts with @1 only; the planner tells a bounded share of
 * them to pull the candidate. Promised: the broken canary is rolled back by itself within 60 s of its
 * first answer (measured), callers outside the canary never see it, nobody sees it after the rollback;
 * the good release is promoted by itself, across a gateway restart in the middle of its rollout.
 */
const BROKEN = '3-broken';
const GOOD = '2';
const KEYS = 12;
const MAX_TIME_TO_ROLLBACK_MS = 60_000;
const procs: Proc[] = [];
let fs: Awaited<ReturnType<typeof scratch>>;
let gatewayOptions: GatewayOptions;
let gateway: Proc & { url: string };
const nodes: NodeHandle[] = [];
const keys: { id: string; key: string }[] = [];

interface Answer {
  keyId: string;
  startedAtMs: number;
  status: number;
  version?: string;
  receiptVersion?: string;
  code?: string;
}

const admin = async (method: string, url: string, body?: unknown) => {
  const res = await fetch(`${gateway.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5_000),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
};
const view = (id: string) => admin('GET', `/v1/rollouts/${id}`) as Promise<RolloutView>;

/** Closed-loop traffic from every key (varied readings) until `stop` resolves; each answer is kept. */
function drive(answers: Answer[], until: { stopped: boolean }, concurrency = 3) {
  let n = 0;
  const worker = async () => {
    while (!until.stopped) {
      const i = n++;
      const k = keys[i % keys.length]!;
      const startedAtMs = Date.now();
      const data = [18 + (i % 15), 30 + ((i * 7) % 50), 400 + ((i * 37) % 1600)];
      try {
        const res = await fetch(`${gateway.url}/v1/infer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: MODEL,
            location: HERE,
            inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data }],
          }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as {
          model_version?: string;
          receipt?: { body: { modelVersion: string } };
          error?: { code: string };
        };
        answers.push({
          keyId: k.id,
          startedAtMs,
          status: res.status,
          ...(body.model_version ? { version: body.model_version } : {}),
          ...(body.receipt ? { receiptVersion: body.receipt.body.modelVersion } : {}),
          ...(body.error ? { code: body.error.code } : {}),
        });
      } catch {
        answers.push({ keyId: k.id, startedAtMs, status: 0 });
        await new Promise((r) => setTimeout(r, 100)); // the gateway is restarting: do not spin
      }
    }
  };
  return Promise.all(Array.from({ length: concurrency }, worker));
}

const holdersOf = async (version: string) => {
  let n = 0;
  for (const node of nodes) {
    const res = await fetch(`${gateway.url}/v1/nodes/${node.nodeId}`);
    const body = (await res.json()) as {
      node?: { models: { name: string; version: string }[] };
      models?: { name: string; version: string }[];
    };
    const models = body.node?.models ?? body.models ?? [];
    if (models.some((m) => m.name === MODEL && m.version === version)) n++;
  }
  return n;
};

beforeAll(async () => {
  fs = await scratch('rollout'); // the origin: comfort-index@1
  for (const [variant, version] of [
    ['mislabelled', BROKEN],
    ['retrained', GOOD],
  ] as const) {
    const release = await buildComfortIndexVariant({ variant, version });
    await writeModel({ dir: fs.modelsDir, ...release });
  }
  gatewayOptions = { dataDir: path.join(fs.dir, 'gateway'), modelsDir: fs.modelsDir, port: await freePort() };
  gateway = await startGatewayProcess(gatewayOptions);
  const v1 = buildComfortIndexModel();
  for (const [i, place] of NODE_PLACES.entries()) {
    // Each node starts with @1 only, in its own folder: the candidate reaches it only through the planner.
    const modelsDir = path.join(fs.dir, 'node-models', `n${i}`);
    await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(v1), bytes: v1 });
    const node = await startNodeProcess({
      dir: fs.dir,
      name: `n${i}`,
      gatewayUrl: gateway.url,
      modelsDir,
      place,
    });
    nodes.push(node);
    procs.push(node);
  }
  for (let i = 0; i < KEYS; i++) {
    const made = (await admin('POST', '/v1/keys', {
      name: `app-${i}`,
      ratePerSecond: 1000,
      burst: 1000,
    })) as { id: string; key: string };
    keys.push({ id: made.id, key: made.key });
  }
}, 180_000);

afterAll(async () => {
  for (const p of [...procs].reverse()) await p.stop();
  await gateway?.stop();
  await fs?.cleanup();
});

describe('chaos: a broken model version rolled out as a canary', () => {
  it(
    'is rolled back by itself within 60 s of its first answer; callers outside the canary never see it',
    { timeout: 150_000 },
    async () => {
      const rollout = (await admin('POST', '/v1/rollouts', {
        model: MODEL,
        candidate: BROKEN,
        baseline: '1',
        canary: { percent: 25, by: 'key', include: [keys[0]!.id, keys[1]!.id], nodeShare: 0.5 },
        shadow: { percent: 50 },
        thresholds: { minComparisons: 10 },
        promotion: { afterMs: 120_000 },
      })) as RolloutView;
      const createdAtMs = Date.now();
      const canary = new Set(keys.filter((k) => inCanary(rollout, { id: k.id })).map((k) => k.id));
      expect(canary.has(keys[0]!.id) && canary.has(keys[1]!.id)).toBe(true);

      const answers: Answer[] = [];
      const until = { stopped: false };
      const load = drive(answers, until);
      let ended: RolloutView | undefined;
      let firstBrokenSeenAtMs: number | undefined;
      let holders = 0;
      try {
        await waitUntil(
          'the broken canary to be decided',
          async () => {
            const v = await view(rollout.id);
            holders = Math.max(holders, await holdersOf(BROKEN));
            firstBrokenSeenAtMs ??= answers.find((a) => a.version === BROKEN)?.startedAtMs;
            if (v.state !== 'running') ended = v;
            return ended !== undefined;
          },
          { timeoutMs: 120_000, intervalMs: 200 },
        );
        // Traffic goes on for a moment after the decision: nobody may see the broken version any more.
        const decidedAtMs = ended!.endedAtMs!;
        await waitUntil(
          'answers after the rollback',
          () => answers.filter((a) => a.startedAtMs > decidedAtMs + 100).length >= 30,
          { timeoutMs: 30_000 },
        );
      } finally {
        until.stopped = true;
        await load;
      }
      const v = ended!;
      const observedMs = Date.now() - createdAtMs;
      const timeToRollbackMs = v.timeToDecisionMs!;
      const broken = answers.filter((a) => a.version === BROKEN);
      const ok = answers.filter((a) => a.status === 200);
      const policy = (await admin('GET', `/v1/models/${MODEL}/version-policy`)) as {
        mode: string;
        version: string;
        withdrawn: string[];
      };
      recordScenario({
        scenario: 'rollout: broken canary (wrong outputs)',
        sent: answers.length,
        answered: ok.length,
        failedClearly: answers.filter((a) => a.status >= 400 && a.code).length,
        lost: answers.filter((a) => a.status === 0).length,
        duplicates: 0,
        recoveryMs: timeToRollbackMs,
        recovery: "the candidate's first answer (canary or mirror) → automatic rollback",
        notes: [
          `reason: ${v.reason}`,
          `rollout created → rolled back ${v.endedAtMs! - v.createdAtMs} ms (includes ${v.candidateFirstAnsweredAtMs! - v.createdAtMs} ms for the planner's canary nodes to pull and load it); first broken answer a client saw → rollback ${firstBrokenSeenAtMs !== undefined ? `${v.endedAtMs! - firstBrokenSeenAtMs} ms` : 'none seen'}`,
          `canary keys ${canary.size} of ${KEYS}; broken answers seen by canary keys ${broken.length}; nodes holding the candidate ${holders} of ${nodes.length}; test observed the decision ${observedMs} ms after creating the rollout`,
        ],
      });

      expect(v).toMatchObject({ state: 'rolled-back', decidedBy: 'auto' });
      expect(v.reason).toMatch(/^output divergence/);
      expect(timeToRollbackMs).toBeGreaterThanOrEqual(0);
      expect(timeToRollbackMs).toBeLessThanOrEqual(MAX_TIME_TO_ROLLBACK_MS);
      // The mirrored answers were compared, never returned: outside the canary only @1 answered, with @1's receipt.
      expect(answers.filter((a) => a.version === BROKEN && !canary.has(a.keyId))).toEqual([]);
      expect(ok.every((a) => a.receiptVersion === a.version)).toBe(true);
      // After the decision nobody gets it, and the model is pinned to the baseline with the candidate withdrawn.
      expect(answers.filter((a) => a.startedAtMs > v.endedAtMs! && a.version !== '1')).toEqual([]);
      expect(policy).toMatchObject({ mode: 'specific', version: '1', withdrawn: [BROKEN] });
      // The planner put the candidate on half of the model's holders at most.
      expect(holders).toBeGreaterThanOrEqual(1);
      expect(holders).toBeLessThanOrEqual(2);
      // Every request was answered: a canary caller whose candidate had no node yet got the baseline.
      expect(ok.length).toBe(answers.length);
    },
  );

  it(
    'promotes a good release by itself, and a gateway restart in the middle keeps the rollout',
    { timeout: 150_000 },
    async () => {
      const rollout = (await admin('POST', '/v1/rollouts', {
        model: MODEL,
        candidate: GOOD,
        canary: { percent: 25, by: 'key', nodeShare: 0.5 },
        shadow: { percent: 50 },
        promotion: { afterMs: 8_000, minSamples: 30, minComparisons: 10 },
      })) as RolloutView;
      expect(rollout.baseline).toBe('1'); // the version pinned by the rollback
      const answers: Answer[] = [];
      const until = { stopped: false };
      const load = drive(answers, until);
      let restartedAtMs = 0;
      let nodesBackAtMs = 0;
      let promoted: RolloutView | undefined;
      let lastLive: RolloutView['live'];
      try {
        await waitUntil(
          'the good candidate to answer',
          async () => (await view(rollout.id)).candidateFirstAnsweredAtMs !== undefined,
          { timeoutMs: 60_000, intervalMs: 200 },
        );
        await gateway.stop();
        restartedAtMs = Date.now();
        gateway = await startGatewayProcess(gatewayOptions);
        expect((await view(rollout.id)).state).toBe('running');
        // The nodes find the gateway again on their own retry schedule (capped exponential backoff).
        await waitUntil(
          'every node healthy at the restarted gateway',
          async () =>
            (await Promise.all(nodes.map((n) => getNode(gateway.url, n.nodeId)))).every(
              (n) => n?.status === 'healthy',
            ),
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        nodesBackAtMs = Date.now();
        await waitUntil(
          'the good candidate to be promoted',
          async () => {
            const v = await view(rollout.id);
            lastLive = v.live ?? lastLive;
            if (v.state !== 'running') promoted = v;
            return promoted !== undefined;
          },
          { timeoutMs: 90_000, intervalMs: 250 },
        );
        const decidedAtMs = promoted!.endedAtMs!;
        await waitUntil(
          'answers after the promotion',
          () => answers.filter((a) => a.startedAtMs > decidedAtMs + 100 && a.status === 200).length >= 30,
          { timeoutMs: 30_000 },
        );
      } finally {
        until.stopped = true;
        await load;
      }
      const v = promoted!;
      console.log(
        gateway.lines
          .filter((l) => /warn|error|rollout|unreachable|fault/i.test(l))
          .slice(-60)
          .join('\n'),
      );
      const after = answers.filter((a) => a.startedAtMs > v.endedAtMs! + 100 && a.status === 200);
      recordScenario({
        scenario: 'rollout: good release promoted (gateway restarted mid-rollout)',
        sent: answers.length,
        answered: answers.filter((a) => a.status === 200).length,
        failedClearly: answers.filter((a) => a.status >= 400 && a.code).length,
        lost: 0,
        duplicates: 0,
        recoveryMs: v.timeToDecisionMs ?? null,
        recovery:
          "the candidate's first answer → automatic promotion (a gateway restart in between; requests refused while it was down are not counted as lost)",
        notes: [
          `reason: ${v.reason}`,
          `nodes healthy again ${nodesBackAtMs - restartedAtMs} ms after the gateway was stopped; connection refusals while it restarted: ${answers.filter((a) => a.status === 0 && a.startedAtMs >= restartedAtMs - 1_000).length}`,
          `failures counted against the versions (last look before the decision): ${JSON.stringify(lastLive?.errorCodes)}; unavailable ${lastLive?.unavailable}`,
          `answers by code: ${JSON.stringify(Object.fromEntries([...new Set(answers.map((a) => a.code ?? String(a.status)))].map((c) => [c, answers.filter((a) => (a.code ?? String(a.status)) === c).length])))}`,
        ],
      });
      expect(v).toMatchObject({ state: 'promoted', decidedBy: 'auto' });
      expect(v.history.map((h) => h.event)).toEqual(['created', 'candidate-serving', 'promoted']);
      expect(await admin('GET', `/v1/models/${MODEL}/version-policy`)).toMatchObject({
        mode: 'specific',
        version: GOOD,
      });
      expect(after.every((a) => a.version === GOOD)).toBe(true);
      // Only the gateway's restart cost answers: refused connections while it was down, and clear
      // NO_NODE_AVAILABLE answers until the nodes had found it again; none after that.
      expect(
        answers.filter((a) => a.status !== 200 && a.status !== 0 && a.code !== 'NO_NODE_AVAILABLE'),
      ).toEqual([]);
      expect(answers.filter((a) => a.status !== 200 && a.startedAtMs > nodesBackAtMs + 500)).toEqual([]);
    },
  );
});
