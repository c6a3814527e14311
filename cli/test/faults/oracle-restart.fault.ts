import { SqliteOracleStore } from '@hexedge/coverage-oracle/node';
import { signReceiptReport } from '@hexedge/gateway';
import { REPORT_KEY_FILE } from '@hexedge/gateway/node';
import { inferRequestSchema, REPORTS_PATH, type InferResponse } from '@hexedge/protocol';
import { readKeyFile } from '@hexedge/protocol/node';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInit } from '../../src/commands/node-init.ts';
import {
  ADMIN_KEY,
  getNode,
  inferBody,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
  type GatewayOptions,
} from './fabric.ts';
import { bondStake, EPOCH_MS, oracleIdentity, startLyingNode, startOracleProcess } from './oracle-fabric.ts';
import { freePort, sleep, waitUntil, type Proc } from '@hexedge/test-kit';
import { recordScenario } from './report.ts';

/**
 * The coverage oracle (`hexedge oracle`) and the gateway (`hexedge gateway`), each with SQLite state,
 * with three honest nodes and a lying one (lying-node.ts) as separate processes. The gateway forwards
 * every answered receipt to the oracle itself (its config's `oracle:`); the test counts what the
 * oracle accepted from its store.
 *
 * 1. The wrong-answer node is caught by a spot check, slashed, its trust pushed to the gateway, and
 *    traffic moves away from it.
 * 2. Both services are SIGKILLed and restarted: registrations, trust, stake, receipts (work records)
 *    and reward manifests survive; no accepted receipt is lost or counted twice.
 */
const BOND = 1000n;
const procs = new Map<string, Proc>();
let fs: Awaited<ReturnType<typeof scratch>>;
let gatewayOptions: GatewayOptions;
let gatewayUrl: string;
let oracleUrl: string;
let oracleOptions: Parameters<typeof startOracleProcess>[0];
let liar: string;
let nodeIds: string[];
const answered: Array<{ body: ReturnType<typeof inferBody>; response: InferResponse }> = [];

async function infer(policy?: Record<string, unknown>): Promise<{ status: number; nodeId?: string }> {
  const body = inferBody(policy ? { policy } : {});
  const res = await fetch(`${gatewayUrl}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const json = (await res.json()) as InferResponse;
  if (res.status !== 200) return { status: res.status };
  answered.push({ body, response: json });
  return { status: 200, nodeId: json.node.id };
}

type NodeReport = {
  trust: { score: number; reasons: string[] };
  verdicts: Array<{ id: string }>;
  spotChecks: Array<{ status: string; reason?: string }>;
  stake: { balanceBaseUnits: string; bondedBaseUnits: string; slashes: Array<{ evidenceId: string }> };
  rewards: Array<{ epoch: number; amountBaseUnits: string }>;
};
const oracleReport = async (id: string) => (await (await fetch(`${oracleUrl}/v1/oracle/nodes/${id}`)).json()) as NodeReport;
const gatewayTrust = async (id: string) => ((await (await fetch(`${gatewayUrl}/v1/nodes/${id}/operator`)).json()) as { trust: { score: number; reasons: string[]; probation: boolean } }).trust;

beforeAll(async () => {
  fs = await scratch('oracle-restart');
  const oracleDir = path.join(fs.dir, 'oracle');
  const oracleId = await oracleIdentity(oracleDir);
  const [gatewayPort, oraclePort] = [await freePort(), await freePort()];
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  // Keys first, so stake can be bonded before the oracle starts.
  const liarDir = path.join(fs.dir, 'nodes', 'liar');
  liar = (await nodeInit({ dataDir: liarDir, ...NODE_PLACES[0]!, gatewayUrl })).nodeId;
  const honestIds = [];
  for (const [i, place] of NODE_PLACES.slice(1).entries())
    honestIds.push(
      (await nodeInit({ dataDir: path.join(fs.dir, 'nodes', `n${i}`), ...place, gatewayUrl })).nodeId,
    );
  nodeIds = [liar, ...honestIds];
  bondStake({ dataDir: oracleDir, nodeIds, amountBaseUnits: BOND });

  oracleOptions = { dataDir: oracleDir, port: oraclePort, gatewayUrl };
  const oracle = await startOracleProcess(oracleOptions);
  procs.set('oracle', oracle);
  oracleUrl = oracle.url;
  gatewayOptions = {
    dataDir: path.join(fs.dir, 'gateway'),
    modelsDir: fs.modelsDir,
    port: gatewayPort,
    oracle: { url: oracleUrl, oracleIds: [oracleId] },
  };
  procs.set('gateway', await startGatewayProcess(gatewayOptions));
  for (const [i, place] of NODE_PLACES.slice(1).entries())
    procs.set(
      `n${i}`,
      await startNodeProcess({ dir: fs.dir, name: `n${i}`, gatewayUrl, modelsDir: fs.modelsDir, place }),
    );
  procs.set(
    'liar',
    await startLyingNode({ dataDir: liarDir, modelsDir: fs.modelsDir, gatewayUrl, place: NODE_PLACES[0]! }),
  );
  await waitUntil(
    'the liar to be healthy at the gateway',
    async () => (await getNode(gatewayUrl, liar))?.status === 'healthy',
  );
}, 90_000);

/** Receipt reports the oracle has taken into its store (accepted: signed by the gateway's key, fresh, not replayed). */
function storedReceipts(): number {
  const store = new SqliteOracleStore({ path: path.join(oracleOptions.dataDir, 'oracle.sqlite') });
  try {
    return store.listReports({ afterSeq: 0, limit: 1_000_000 }).filter((r) => r.body.type === 'receipt')
      .length;
  } finally {
    store.close();
  }
}

afterAll(async () => {
  for (const p of [...procs.values()].reverse()) await p.stop();
  await fs?.cleanup();
});

describe('fault: a node that returns wrong answers; the oracle and the gateway restarted', () => {
  it('catches the wrong-answer node with a spot check and moves traffic away from it', async () => {
    let sent = 0;
    let ok = 0;
    let firstLieAtMs = 0;
    // The liar is nearest to HERE, so placement sends it traffic first.
    for (let i = 0; i < 60 && answered.filter((a) => a.response.node.id === liar).length < 3; i++) {
      const r = await infer();
      sent++;
      if (r.status === 200) ok++;
      if (r.nodeId === liar && !firstLieAtMs) firstLieAtMs = Date.now();
    }
    expect(firstLieAtMs).toBeGreaterThan(0);
    const report = await waitUntil('a fraud verdict on the liar', async () => {
      const r = await oracleReport(liar);
      return r.spotChecks.some((v) => v.status === 'fraud') && r;
    });
    const caughtAtMs = Date.now();
    await waitUntil(
      'the liar’s trust to reach the gateway',
      async () => (await gatewayTrust(liar)).score <= 0.1,
    );
    const trustAtGatewayMs = Date.now();

    const before = answered.length;
    const servedBy = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const r = await infer();
      sent++;
      if (r.status === 200) ok++;
      if (r.nodeId) servedBy.set(r.nodeId, (servedBy.get(r.nodeId) ?? 0) + 1);
    }
    // A node's trust is unknown until its own answers were checked: wait for one honest node's to reach the gateway.
    await waitUntil('an honest node to be known at the gateway', async () => {
      for (const id of servedBy.keys()) if (id !== liar && !(await gatewayTrust(id)).probation) return true;
      return false;
    });
    const trusted = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await infer({ minTrust: 0.3 });
      sent++;
      if (r.status === 200) ok++;
      if (r.nodeId) trusted.add(r.nodeId);
    }
    recordScenario({
      scenario: 'wrong-answer node (spot checks)',
      sent,
      answered: ok,
      failedClearly: 0,
      lost: sent - ok,
      duplicates: 0,
      recoveryMs: trustAtGatewayMs - firstLieAtMs,
      recovery: "liar's first answer → its trust ≤ 0.1 at the gateway (sampled, refereed by the oracle, slashed, pushed)",
      notes: [
        `fraud verdict ${report.spotChecks.find((v) => v.status === 'fraud')?.reason}; caught ${caughtAtMs - firstLieAtMs} ms after its first answer; slashed ${report.stake.slashes.length}×, balance ${report.stake.balanceBaseUnits}/${BOND}`,
        `after: liar served ${servedBy.get(liar) ?? 0} of 30 requests without a policy, 0 of 20 with minTrust 0.3 (answers after detection: ${answered.length - before})`,
      ],
    });
    expect(ok).toBe(sent);
    expect(report.spotChecks.find((v) => v.status === 'fraud')).toMatchObject({ reason: 'OUTPUT_MISMATCH' });
    expect(BigInt(report.stake.balanceBaseUnits)).toBeLessThan(BOND);
    expect(trusted.has(liar)).toBe(false);
    expect(servedBy.get(liar) ?? 0).toBeLessThanOrEqual(3);
  });

  it('keeps registrations, trust, stake, receipts and reward manifests across a SIGKILL of both', async () => {
    // At least one closed epoch with a manifest, so there is one to lose.
    await waitUntil(
      'a closed epoch with rewards',
      async () => (await oracleReport(nodeIds[1]!)).rewards.length > 0,
      { timeoutMs: 4 * EPOCH_MS },
    );
    await waitUntil(
      'the gateway to have forwarded every answered receipt',
      () => storedReceipts() >= answered.length,
      { timeoutMs: 10_000 },
    );
    const reportsBefore = Object.fromEntries(
      await Promise.all(nodeIds.map(async (id) => [id, await oracleReport(id)] as const)),
    );
    const epochs = [...new Set(Object.values(reportsBefore).flatMap((r) => r.rewards.map((x) => x.epoch)))];
    const manifestsBefore = await Promise.all(
      epochs.map(async (e) => (await fetch(`${oracleUrl}/v1/oracle/epochs/${e}/manifest`)).text()),
    );
    const trustBefore = await gatewayTrust(liar);

    const killAtMs = Date.now();
    await Promise.all([procs.get('gateway')!.kill(), procs.get('oracle')!.kill()]);
    const acceptedReceipts = storedReceipts();
    // The gateway first, while the oracle is still down: whatever trust it shows is its own, from disk.
    procs.set('gateway', await startGatewayProcess(gatewayOptions));
    const trustAfter = await gatewayTrust(liar);
    const registered = await Promise.all(nodeIds.map((id) => getNode(gatewayUrl, id)));
    procs.set('oracle', await startOracleProcess(oracleOptions));
    await waitUntil('every node healthy again', async () =>
      (await Promise.all(nodeIds.map((id) => getNode(gatewayUrl, id)))).every((n) => n?.status === 'healthy'),
    );
    let firstOkMs = 0;
    let sentAfter = 0;
    for (let i = 0; i < 50 && !firstOkMs; i++) {
      sentAfter++;
      if ((await infer({ minTrust: 0.3 })).status === 200) firstOkMs = Date.now() - killAtMs;
      else await sleep(100);
    }
    const reportsAfter = Object.fromEntries(
      await Promise.all(nodeIds.map(async (id) => [id, await oracleReport(id)] as const)),
    );
    const manifestsAfter = await Promise.all(
      epochs.map(async (e) => (await fetch(`${oracleUrl}/v1/oracle/epochs/${e}/manifest`)).text()),
    );

    // Every accepted receipt is one work record, also after re-sending them all to the restarted
    // oracle, signed by the gateway's report key as its forwarder would (a gateway re-sending after a crash).
    const reportKey = (await readKeyFile(path.join(gatewayOptions.dataDir, REPORT_KEY_FILE)))!.keys;
    const resend = await Promise.all(
      answered.map((a) =>
        signReceiptReport({ request: inferRequestSchema.parse(a.body), response: a.response }, reportKey),
      ),
    );
    const resendAnswer = (await (
      await fetch(new URL(REPORTS_PATH, oracleUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(resend),
      })
    ).json()) as { accepted: number };
    const readWork = () => {
      const store = new SqliteOracleStore({ path: path.join(oracleOptions.dataDir, 'oracle.sqlite') });
      try {
        return store.listWork({ sinceMs: 0, untilMs: Date.now() + 60_000 });
      } finally {
        store.close();
      }
    };
    // Reports taken before the kill but not yet turned into work are picked up from the store's cursor.
    await waitUntil(
      'the restarted oracle to account for every receipt',
      () => readWork().filter((w) => w.atMs <= killAtMs).length >= acceptedReceipts,
      { timeoutMs: 5_000 },
    ).catch(() => {});
    // Positive marker: every stored report (the re-sent ones included) has been through the verify stage.
    await waitUntil('the verify stage to reach the end of the report log', () => {
      const store = new SqliteOracleStore({ path: path.join(oracleOptions.dataDir, 'oracle.sqlite') });
      try {
        return store.listReports({ afterSeq: store.getCursor('verify'), limit: 1 }).length === 0;
      } finally {
        store.close();
      }
    });
    const work = readWork();
    const distinctReceipts = new Set(work.map((w) => w.receiptHash));
    const keptFromBefore = work.filter((w) => w.atMs <= killAtMs).length;
    const resent = answered.length;

    recordScenario({
      scenario: 'oracle + gateway SIGKILL and restart (state)',
      // Receipts are what this scenario accepts and must keep: sent = forwarded to the oracle.
      sent: acceptedReceipts,
      answered: keptFromBefore,
      failedClearly: 0,
      lost: Math.max(0, acceptedReceipts - keptFromBefore),
      duplicates: work.length - distinctReceipts.size,
      recoveryMs: firstOkMs || null,
      recovery: 'kill of both → first 200 from the restarted gateway with minTrust 0.3',
      notes: [
        `receipts (rows: sent = accepted by the oracle before the kill, answered = work records of them after the restart): ${acceptedReceipts} → ${keptFromBefore}; all ${resent} receipts re-sent after the restart (${resendAnswer.accepted} reports taken) left ${work.length} work records, ${distinctReceipts.size} distinct`,
        `${sentAfter} HTTP request(s) after the restart until the first 200; registrations of all ${nodeIds.length} nodes were listed by the restarted gateway`,
        `closed epochs with manifests kept byte-for-byte: ${epochs.length}; liar trust at the gateway before/after (oracle still down): ${trustBefore.score.toFixed(3)}/${trustAfter.score.toFixed(3)}`,
      ],
    });

    expect(registered.every((n) => n !== undefined)).toBe(true);
    expect(trustAfter.score).toBeCloseTo(trustBefore.score, 6);
    expect(manifestsAfter).toEqual(manifestsBefore);
    for (const id of nodeIds) {
      const [b, a] = [reportsBefore[id]!, reportsAfter[id]!];
      expect(a.stake).toEqual(b.stake);
      for (const r of b.rewards) expect(a.rewards).toContainEqual(r);
      for (const v of b.verdicts) expect(a.verdicts.map((x) => x.id)).toContain(v.id);
    }
    expect(reportsAfter[liar]!.trust.score).toBeLessThanOrEqual(0.1);
    expect(keptFromBefore).toBe(acceptedReceipts);
    expect(work.length).toBe(distinctReceipts.size);
    expect(firstOkMs).toBeGreaterThan(0);
  });
});
