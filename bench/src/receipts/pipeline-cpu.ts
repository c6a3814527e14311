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
import { parseArgs } from 'node:util';
import { receiptFixtures } from './fixtures.ts';
import { pipelineRound, type PipelineRound } from './pipeline-round.ts';

const { values } = parseArgs({
  options: {
    receipts: { type: 'string', default: '15000' },
    'posts-per-verify': { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
  },
});
const nowMs = Date.now();
const fixtures = await receiptFixtures({
  count: Number(values.receipts),
  nodeCount: 4,
  receiptLeaves: 32,
  postSize: 100,
  batchReports: true,
  nowMs,
});
const options = { nowMs, postsPerVerify: Number(values['posts-per-verify']) };
await pipelineRound(fixtures, options);
const rounds: PipelineRound[] = [];
for (let r = 0; r < Number(values.rounds); r++) rounds.push(await pipelineRound(fixtures, options));
console.log(
  `oracle ingest + verify on SQLite: ${rounds.map((r) => r.cpuUs.toFixed(1)).join(' ')} µs CPU/receipt; ` +
    `read + write system calls/receipt: ${rounds.map((r) => (r.reads === undefined ? 'n/a' : `${r.reads.toFixed(2)} + ${r.writes!.toFixed(2)}`)).join(', ')}`,
);
