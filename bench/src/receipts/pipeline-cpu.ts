/**
 * `node bench/src/receipts/pipeline-cpu.ts [--receipts 15000] [--posts-per-verify 15] [--rounds 3]`:
 * the oracle's durable pipeline per forwarded receipt, as it runs under load: posts of 100 batch-signed
 * receipt reports through ingest on the SQLite store (group commit, synchronous=FULL), the verify stage
 * draining every `--posts-per-verify` posts (its 1 s rest at ~1 500 receipts/s), in one process. Prints
 * CPU µs per receipt (user + system) and read- and write-class system calls per receipt (/proc/self/io)
 * of each round after an untimed one: the figure to compare A/B
 * for changes to ingest → verify (the load test's oracle figure adds HTTP, spot checks and the noise
 * of a shared machine).
 */
import { CoverageOracle, MemoryDirectory, parseOracleConfig } from '@hexedge/coverage-oracle';
import { nodeSha256Hex, SqliteOracleStore } from '@hexedge/coverage-oracle/node';
import { generateNodeKeyPair, useEd25519Engine } from '@hexedge/protocol';
import { nodeEd25519OnPool, sodiumEd25519 } from '@hexedge/protocol/node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { receiptFixtures } from './fixtures.ts';

const { values } = parseArgs({
  options: {
    receipts: { type: 'string', default: '15000' },
    'posts-per-verify': { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
  },
});
const COUNT = Number(values.receipts);
const EVERY = Number(values['posts-per-verify']);
const nowMs = Date.now();
const fixtures = await receiptFixtures({
  count: COUNT,
  nodeCount: 4,
  receiptLeaves: 32,
  postSize: 100,
  batchReports: true,
  nowMs,
});
useEd25519Engine(sodiumEd25519 ?? nodeEd25519OnPool);

/** Read- and write-class system calls of this process so far (/proc/self/io; Linux). */
function syscalls(): { reads: number; writes: number } | undefined {
  try {
    const io = readFileSync('/proc/self/io', 'utf8');
    return {
      reads: Number(/^syscr: (\d+)$/m.exec(io)?.[1]),
      writes: Number(/^syscw: (\d+)$/m.exec(io)?.[1]),
    };
  } catch {
    return undefined;
  }
}

async function round(): Promise<{ cpuUs: number; reads?: number; writes?: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-pipeline-cpu-'));
  const store = new SqliteOracleStore({ path: path.join(dir, 'oracle.sqlite') });
  try {
    const directory = new MemoryDirectory();
    directory.putReporter({ nodeId: fixtures.gateway.nodeId, roles: ['gateway'] });
    const oracle = new CoverageOracle({
      // hexedge dev's sampling rate; no re-run wired, so sampled receipts stay unchecked work.
      config: parseOracleConfig({ samplingRate: 0.2 }),
      keys: await generateNodeKeyPair(),
      samplingSecret: new TextEncoder().encode('bench sampling secret, 32 bytes!'),
      store,
      directory,
      sink: { publish() {} },
      sha256: nodeSha256Hex,
      nowMs: () => nowMs,
    });
    const drain = async () => {
      while ((await oracle.verifyStage.tick(nowMs)) > 0);
    };
    const cpu = process.cpuUsage();
    const io = syscalls();
    for (let i = 0; i < fixtures.posts.length; i++) {
      for (const r of await oracle.ingest.submitBatch(JSON.parse(fixtures.posts[i]!) as unknown[], nowMs))
        if (!r.accepted) throw new Error(`a receipt report was refused: ${JSON.stringify(r)}`);
      if ((i + 1) % EVERY === 0) await drain();
    }
    await drain();
    const { user, system } = process.cpuUsage(cpu);
    const after = syscalls();
    return {
      cpuUs: (user + system) / COUNT,
      ...(io && after
        ? { reads: (after.reads - io.reads) / COUNT, writes: (after.writes - io.writes) / COUNT }
        : {}),
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await round();
const rounds: Awaited<ReturnType<typeof round>>[] = [];
for (let r = 0; r < Number(values.rounds); r++) rounds.push(await round());
console.log(
  `oracle ingest + verify on SQLite: ${rounds.map((r) => r.cpuUs.toFixed(1)).join(' ')} µs CPU/receipt; ` +
    `read + write system calls/receipt: ${rounds.map((r) => (r.reads === undefined ? 'n/a' : `${r.reads.toFixed(2)} + ${r.writes!.toFixed(2)}`)).join(', ')}`,
);
