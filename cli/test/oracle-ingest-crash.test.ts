import { SqliteOracleStore } from '@hexedge/coverage-oracle/node';
import {
  generateNodeKeyPair,
  randomNonce,
  REPORTS_PATH,
  signBatch,
  tensorsDigest,
  type NodeKeyPair,
  type Tensor,
} from '@hexedge/protocol';
import { freePort, startHexedge, waitUntil, type Proc } from '@hexedge/test-kit';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Group-committed ingest across a crash, against a real `hexedge oracle` process: a gateway (this test,
 * with its own report key, configured as `gatewayReporterIds`) posts batch-signed receipt reports,
 * several posts in flight; the oracle is SIGKILLed mid-stream and restarted. Every report the oracle
 * acknowledged is in its database; resending every batch stores nothing twice (the acknowledged ones
 * come back REPLAYED), and each receipt becomes exactly one unit of work.
 */
const BATCHES = 24;
const PER_BATCH = 50;
const IN_FLIGHT = 3;
const procs: Proc[] = [];
let dir: string;
let configFile: string;
let gateway: NodeKeyPair;
let node: NodeKeyPair;
let posts: Array<Array<{ body: { nonce: string; receipt: { body: { requestId: string } } } }>>;

const tensor = (name: string, data: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape: [1, data.length],
  data,
});

async function startOracle(): Promise<Proc & { url: string }> {
  const proc = await startHexedge({
    name: 'hexedge oracle',
    args: ['oracle', '--config', configFile],
    ready: /^oracle \S+ on (\S+)/,
  });
  procs.push(proc);
  return { ...proc, url: proc.match[1]! };
}

/** POSTs one batch; its per-report results, or undefined when the oracle died under it. */
async function post(
  url: string,
  batch: unknown[],
): Promise<Array<{ accepted: boolean; code?: string }> | undefined> {
  try {
    const res = await fetch(new URL(REPORTS_PATH, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch),
      signal: AbortSignal.timeout(20_000),
    });
    if (res.status !== 202) throw new Error(`oracle answered HTTP ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { results: Array<{ accepted: boolean; code?: string }> }).results;
  } catch (err) {
    if (/HTTP/.test((err as Error).message)) throw err;
    return undefined; // connection reset or refused: nothing was acknowledged
  }
}

function openStore() {
  return new SqliteOracleStore({ path: path.join(dir, 'oracle', 'oracle.sqlite') });
}
/** (nonce → count) over the receipt reports in the oracle's database. */
function storedNonces(): Map<string, number> {
  const store = openStore();
  try {
    const counts = new Map<string, number>();
    for (const r of store.listReports({ afterSeq: 0, limit: 1_000_000 }))
      counts.set(String(r.body.nonce), (counts.get(String(r.body.nonce)) ?? 0) + 1);
    return counts;
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hexedge-ingest-crash-'));
  [gateway, node] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
  configFile = path.join(dir, 'oracle.yaml');
  const yaml = [
    'host: 127.0.0.1',
    `port: ${await freePort()}`,
    `dataDir: ${JSON.stringify(path.join(dir, 'oracle'))}`,
    'gatewayUrls: []',
    `gatewayReporterIds: [${gateway.nodeId}]`,
    'challengeIntervalMs: 0',
    'exportIntervalMs: 0',
    'oracle:',
    '  samplingRate: 0',
    '  idleMs: 20',
  ];
  await writeFile(configFile, `${yaml.join('\n')}\n`);
  // Receipts batch-signed by a node, reports batch-signed by the gateway: what the fabric sends.
  const nowMs = Date.now();
  posts = [];
  for (let b = 0; b < BATCHES; b++) {
    const bodies = await Promise.all(
      Array.from({ length: PER_BATCH }, async (_, k) => {
        const i = b * PER_BATCH + k;
        const [inputs, outputs] = [[tensor('readings', [20 + i, 50, 600])], [tensor('scores', [0.25, 0.75])]];
        return {
          nodeId: node.nodeId,
          requestId: `req-${i}`,
          modelName: 'comfort-index',
          modelVersion: '1',
          modelContentId: 'c'.repeat(64),
          inputDigest: await tensorsDigest(inputs),
          outputDigest: await tensorsDigest(outputs),
          issuedAtMs: nowMs,
          serviceTimeMs: 1,
          inputs,
          outputs,
        };
      }),
    );
    const receipts = await signBatch({
      kind: 'receipt',
      bodies: bodies.map(({ inputs: _i, outputs: _o, ...body }) => body),
      keys: node,
      nowMs,
    });
    const reports = receipts.map((receipt, k) => ({
      type: 'receipt' as const,
      nodeId: gateway.nodeId,
      nonce: randomNonce(),
      issuedAtMs: nowMs,
      receipt,
      request: {
        kind: 'tensors' as const,
        modelName: 'comfort-index',
        modelVersion: '1',
        inputs: bodies[k]!.inputs,
      },
      result: { kind: 'tensors' as const, outputs: bodies[k]!.outputs },
    }));
    posts.push((await signBatch({ kind: 'report', bodies: reports, keys: gateway, nowMs })) as never);
  }
}, 60_000);

afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('oracle ingest across a SIGKILL', () => {
  it('keeps every acknowledged report, and a resend of everything stores nothing twice', async () => {
    let oracle = await startOracle();
    const acknowledged = new Set<string>();
    let next = 0;
    let killed = false;
    // A few posts in flight at once; the kill lands once a third of the batches were acknowledged.
    const sender = async () => {
      while (next < BATCHES && !killed) {
        const batch = posts[next++]!;
        const results = await post(oracle.url, batch);
        if (!results) return;
        results.forEach((r, k) => {
          if (r.accepted) acknowledged.add(batch[k]!.body.nonce);
          else throw new Error(`report refused before the crash: ${JSON.stringify(r)}`);
        });
        if (acknowledged.size >= (BATCHES * PER_BATCH) / 3 && !killed) {
          killed = true;
          await oracle.kill();
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
    expect(killed).toBe(true);
    expect(await oracle.exited).toBe('SIGKILL');

    // Nothing acknowledged was lost.
    const afterCrash = storedNonces();
    const lost = [...acknowledged].filter((n) => !afterCrash.has(n));
    expect(lost).toEqual([]);
    expect([...afterCrash.values()].every((c) => c === 1)).toBe(true);

    // Restart and resend every batch, acknowledged or not.
    oracle = await startOracle();
    const outcomes = new Map<string, string>();
    for (const batch of posts) {
      const results = await post(oracle.url, batch);
      expect(results).toBeDefined();
      results!.forEach((r, k) => outcomes.set(batch[k]!.body.nonce, r.accepted ? 'accepted' : r.code!));
    }
    for (const nonce of acknowledged) expect(outcomes.get(nonce)).toBe('REPLAYED');
    for (const nonce of afterCrash.keys()) expect(outcomes.get(nonce)).toBe('REPLAYED');
    expect(new Set(outcomes.values())).toEqual(new Set(['accepted', 'REPLAYED']));

    // Every report stored exactly once, and every receipt counted as exactly one unit of work.
    const total = BATCHES * PER_BATCH;
    const stored = storedNonces();
    expect(stored.size).toBe(total);
    expect([...stored.values()].every((c) => c === 1)).toBe(true);
    const work = await waitUntil('the verify stage to turn every receipt into work', () => {
      const store = openStore();
      try {
        const w = store.listWork({ sinceMs: 0, untilMs: Number.MAX_SAFE_INTEGER });
        return w.length >= total && w;
      } finally {
        store.close();
      }
    });
    expect(work).toHaveLength(total);
    expect(new Set(work.map((w) => w.receiptHash)).size).toBe(total);
  }, 120_000);
});
