/**
 * `node bench/src/receipts/profile-ingest.ts [--rounds 8] [--out dir]`: the receipts suite's main shape
 * (receipt roots of 32, report roots of 100) through the oracle's ingest on the memory store, as its
 * CPU-per-receipt row measures it, under V8's sampling profiler (node:inspector), after one untimed
 * round; prints CPU per receipt and the profile's top entries by self and inclusive time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { topSelfTime } from '../inference/profile-node.ts';
import { receiptFixtures } from './fixtures.ts';
import { ingestRate } from './ingest-rate.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    out: { type: 'string', default: 'bench/results/profile-ingest' },
  },
});
const nowMs = Date.now();
const fixtures = await receiptFixtures({
  count: 12_000,
  nodeCount: 4,
  receiptLeaves: 32,
  postSize: 100,
  batchReports: true,
  nowMs,
});
await ingestRate(fixtures, { nowMs, store: 'memory' });
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const cpu: number[] = [];
for (let r = 0; r < Number(values.rounds); r++)
  cpu.push((await ingestRate(fixtures, { nowMs, store: 'memory' })).cpuUsPerReceipt);
const { profile } = await session.post('Profiler.stop');
session.disconnect();
mkdirSync(values.out, { recursive: true });
const file = path.join(values.out, 'ingest.cpuprofile');
writeFileSync(file, JSON.stringify(profile));
cpu.sort((a, b) => a - b);
console.log(
  `CPU per receipt (median of ${cpu.length}, profiler on): ${cpu[cpu.length >> 1]!.toFixed(1)} µs; profile: ${file}`,
);
for (const e of topSelfTime(profile as never, 30))
  console.log(`${(e.share * 100).toFixed(1).padStart(5)} %  ${e.name}`);
