/**
 * Receipts at scale (issue 19): batch-signed receipts and reports through the oracle's ingest against
 * raw per-receipt Ed25519 verification, the oracle's whole durable pipeline on SQLite (CPU and system
 * calls per receipt), and the node's signing cost per answer with batch roots against one signature
 * per answer. Rounds interleaved; medians.
 */
import { generateNodeKeyPair } from '@hexedge/protocol';
import { receiptFixtures } from '../receipts/fixtures.ts';
import {
  ingestRate,
  rawNodeVerifyRate,
  rawSodiumVerifyRate,
  rawWebVerifyRate,
} from '../receipts/ingest-rate.ts';
import { pipelineRound, type PipelineRound } from '../receipts/pipeline-round.ts';
import { batchSigningUs, singleSigningUs } from '../receipts/signing-cost.ts';
import { summarize, type BenchRow } from '../report.ts';

/** Reports per post: the gateway forwarder's batch (DEFAULT_FORWARD_BATCH). */
const POST_SIZE = 100;
const NODES = 4;
const WEB = 'raw Ed25519 verify per receipt (WebCrypto crypto.subtle.verify)';
const NODE = 'raw Ed25519 verify per receipt (node:crypto verify)';
const NODE_CPU = 'raw Ed25519 verify, CPU per receipt (node:crypto verify)';
const SODIUM = 'raw Ed25519 verify per receipt (libsodium, the oracle’s engine)';
const SODIUM_CPU = 'raw Ed25519 verify, CPU per receipt (libsodium, the oracle’s engine)';
const GOAL = '≥ 3× raw Ed25519 (batch roots)';
/** The verify stage drains every this many posts in the durable pipeline (its 1 s rest at ~1 500 receipts/s). */
const POSTS_PER_VERIFY = 15;

const row = (r: Partial<BenchRow> & Pick<BenchRow, 'name' | 'value' | 'unit'>): BenchRow => ({
  anchor: null,
  anchorValue: null,
  ratio: null,
  goal: null,
  met: null,
  ...r,
});

const SHAPES = [
  {
    label: 'v2: receipt roots of 32, report roots of 100',
    receiptLeaves: 32,
    batchReports: true,
    main: true,
  },
  { label: 'v2: receipt roots of 4, report roots of 100', receiptLeaves: 4, batchReports: true, main: false },
  { label: 'v1: every receipt and report signed alone', receiptLeaves: 0, batchReports: false, main: false },
];

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  // Quick: the goal's shape and v1 (the before) only, a few seconds in all.
  const count = quick ? 2000 : 12_000;
  const rounds = quick ? 3 : 5;
  const shapes = quick ? SHAPES.filter((s) => s.receiptLeaves !== 4) : SHAPES;
  const nowMs = Date.now();
  const fixtures = [];
  for (const s of shapes)
    fixtures.push(
      await receiptFixtures({
        count,
        nodeCount: NODES,
        receiptLeaves: s.receiptLeaves,
        postSize: POST_SIZE,
        batchReports: s.batchReports,
        nowMs,
      }),
    );
  const stores = ['memory', 'sqlite'] as const;
  const web: number[] = [];
  const node: number[] = [];
  const nodeCpu: number[] = [];
  const sodium: number[] = [];
  const sodiumCpu: number[] = [];
  const rates = new Map<string, number[]>();
  const cpus = new Map<string, number[]>();
  const commits = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, key: string, v: number) => m.set(key, [...(m.get(key) ?? []), v]);
  // One untimed round first: the ingest path's code is compiled before any round counts.
  await rawWebVerifyRate(fixtures[0]!.singles);
  rawNodeVerifyRate(fixtures[0]!.singles);
  rawSodiumVerifyRate(fixtures[0]!.singles);
  for (const f of fixtures) for (const store of stores) await ingestRate(f, { nowMs, store });
  // The deployable's whole durable path for the main shape: ingest and the verify stage on SQLite.
  const mainFixtures = fixtures[shapes.findIndex((s) => s.main)]!;
  const pipeline: PipelineRound[] = [];
  await pipelineRound(mainFixtures, { nowMs, postsPerVerify: POSTS_PER_VERIFY });
  for (let r = 0; r < rounds; r++) {
    web.push(await rawWebVerifyRate(fixtures[0]!.singles));
    const raw = rawNodeVerifyRate(fixtures[0]!.singles);
    node.push(raw.perS);
    nodeCpu.push(raw.cpuUsPerReceipt);
    const rawSodium = rawSodiumVerifyRate(fixtures[0]!.singles);
    sodium.push(rawSodium.perS);
    sodiumCpu.push(rawSodium.cpuUsPerReceipt);
    for (const [i, f] of fixtures.entries())
      for (const store of stores) {
        const m = await ingestRate(f, { nowMs, store });
        const key = `${i}/${store}`;
        push(rates, key, m.perS);
        push(cpus, key, m.cpuUsPerReceipt);
        push(commits, key, m.commits);
      }
    pipeline.push(await pipelineRound(mainFixtures, { nowMs, postsPerVerify: POSTS_PER_VERIFY }));
  }
  const webPerS = summarize(web).median;
  const nodePerS = summarize(node).median;
  const nodeCpuUs = summarize(nodeCpu).median;
  const sodiumPerS = summarize(sodium).median;
  const sodiumCpuUs = summarize(sodiumCpu).median;
  const rows: BenchRow[] = [
    row({ name: WEB, value: webPerS, unit: 'receipts/s' }),
    row({ name: NODE, value: nodePerS, unit: 'receipts/s' }),
    row({ name: SODIUM, value: sodiumPerS, unit: 'receipts/s' }),
  ];
  shapes.forEach((s, i) => {
    for (const store of stores) {
      const perS = summarize(rates.get(`${i}/${store}`)!).median;
      const name = `oracle ingest + verify, ${store === 'sqlite' ? 'SQLite (fsync per group commit)' : 'memory store'} (${s.label})`;
      console.log(
        `${name}: ${summarize(commits.get(`${i}/${store}`)!).median} commits for ${count} receipts`,
      );
      rows.push(
        row({
          name,
          value: perS,
          unit: 'receipts/s',
          anchor: WEB,
          anchorValue: webPerS,
          ratio: perS / webPerS,
          ...(s.main ? { goal: GOAL, met: perS / webPerS >= 3 } : {}),
        }),
        row({
          name: `  same, against node:crypto`,
          value: perS,
          unit: 'receipts/s',
          anchor: NODE,
          anchorValue: nodePerS,
          ratio: perS / nodePerS,
        }),
        row({
          name: `  same, against libsodium`,
          value: perS,
          unit: 'receipts/s',
          anchor: SODIUM,
          anchorValue: sodiumPerS,
          ratio: perS / sodiumPerS,
        }),
      );
    }
  });
  // CPU time per receipt (all of the process's threads): what the oracle's host pays, whatever else
  // shares the machine's cores. Lower is better, so the ratio is anchor / value.
  // The goal is held against libsodium's raw verify: the cheapest per-receipt check the oracle has, so
  // the ratio is what batch roots save over verifying every receipt with the oracle's own engine.
  rows.push(
    row({ name: NODE_CPU, value: nodeCpuUs, unit: 'µs CPU/receipt' }),
    row({ name: SODIUM_CPU, value: sodiumCpuUs, unit: 'µs CPU/receipt' }),
  );
  shapes.forEach((s, i) => {
    const us = summarize(cpus.get(`${i}/memory`)!).median;
    rows.push(
      row({
        name: `oracle ingest + verify, CPU per receipt, memory store (${s.label})`,
        value: us,
        unit: 'µs CPU/receipt',
        anchor: SODIUM_CPU,
        anchorValue: sodiumCpuUs,
        ratio: sodiumCpuUs / us,
        ...(s.main ? { goal: GOAL, met: sodiumCpuUs / us >= 3 } : {}),
      }),
      row({
        name: `  same, against node:crypto`,
        value: us,
        unit: 'µs CPU/receipt',
        anchor: NODE_CPU,
        anchorValue: nodeCpuUs,
        ratio: nodeCpuUs / us,
      }),
    );
  });

  const mainLabel = shapes.find((s) => s.main)!.label;
  const pipelineUs = summarize(pipeline.map((p) => p.cpuUs)).median;
  rows.push(
    row({
      name: `oracle durable pipeline (ingest + verify stage, SQLite), CPU per receipt (${mainLabel})`,
      value: pipelineUs,
      unit: 'µs CPU/receipt',
      anchor: SODIUM_CPU,
      anchorValue: sodiumCpuUs,
      ratio: sodiumCpuUs / pipelineUs,
    }),
  );
  if (pipeline.every((p) => p.writes !== undefined))
    rows.push(
      row({
        name: '  same, read-class system calls per receipt (/proc/self/io)',
        value: summarize(pipeline.map((p) => p.reads!)).median,
        unit: 'calls/receipt',
      }),
      row({
        name: '  same, write-class system calls per receipt (/proc/self/io)',
        value: summarize(pipeline.map((p) => p.writes!)).median,
        unit: 'calls/receipt',
      }),
    );

  // Signing cost per answer at the node.
  const keys = await generateNodeKeyPair();
  const answers = quick ? 1000 : 12_000;
  const single: number[] = [];
  const batched = new Map<number, number[]>([
    [1, []],
    [8, []],
    [32, []],
  ]);
  singleSigningUs(keys, answers);
  for (const perTurn of batched.keys()) await batchSigningUs(keys, answers, perTurn);
  for (let r = 0; r < rounds; r++) {
    single.push(singleSigningUs(keys, answers));
    for (const [perTurn, samples] of batched) samples.push(await batchSigningUs(keys, answers, perTurn));
  }
  const singleUs = summarize(single).median;
  const SIGN = 'node receipt signing, one signature per answer (v1)';
  rows.push(row({ name: SIGN, value: singleUs, unit: 'µs/answer' }));
  for (const [perTurn, samples] of batched) {
    const us = summarize(samples).median;
    rows.push(
      row({
        name: `node receipt signing, batch roots, ${perTurn} answer${perTurn > 1 ? 's' : ''} per turn (v2)`,
        value: us,
        unit: 'µs/answer',
        anchor: SIGN,
        anchorValue: singleUs,
        // Lower is better: how many times cheaper than a signature per answer.
        ratio: singleUs / us,
      }),
    );
  }
  return rows;
}
