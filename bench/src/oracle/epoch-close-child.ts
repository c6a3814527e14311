/**
 * One measured epoch close in a process of its own (peak RSS is per process): `node epoch-close-child.ts
 * <db file> <mode>` prints one JSON line { closeMs, peakRssGrowthMiB, longestStallMs, receiptsRoot }.
 * mode `stage`: RewardStage.closeEpoch on the SQLite store as the oracle runs it; `materialised`: the
 * reads and hashing the close did before it streamed (every work record in one array, the Merkle
 * root over all leaves at once), writing nothing.
 */
import { generateNodeKeyPair } from '@hexedge/protocol';
import { nodeSha256Hex, SqliteOracleStore } from '@hexedge/coverage-oracle/node';
import {
  buildLogEntry,
  computeRewardEntries,
  EpochClock,
  GENESIS_LOG_ROOT,
  RewardStage,
} from '@hexedge/coverage-oracle';
import { BENCH_EPOCH, BENCH_EPOCH_MS } from './epoch-close-data.ts';

const [file, mode] = process.argv.slice(2);
const store = new SqliteOracleStore({ path: file! });
const clock = new EpochClock(BENCH_EPOCH_MS);
const shares = { inferenceBps: 6000, coverageBps: 3000, availabilityBps: 1000 };
const rewards = { poolBaseUnits: 1_000_000_000n, modelCostUnits: { resnet: 5 }, requestFeeBaseUnits: 1000n };
const oracle = await generateNodeKeyPair();

// The longest time the event loop could not run a 1 ms timer: what ingest waits at worst meanwhile.
let longestStallMs = 0;
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  longestStallMs = Math.max(longestStallMs, now - last);
  last = now;
}, 1);
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
let receiptsRoot: string;
if (mode === 'stage') {
  const stage = new RewardStage({
    store,
    oracle,
    clock,
    shares,
    ...rewards,
    samplingSeedFor: async (epoch) => `AAAAAAAAAAAAAAAAAAAA${String(epoch % 100).padStart(2, 'A')}`,
    firstEpoch: BENCH_EPOCH,
    settleMs: 0,
    sha256: nodeSha256Hex,
  });
  await stage.closeEpoch(BENCH_EPOCH, GENESIS_LOG_ROOT);
  receiptsRoot = store.getLogHeader(BENCH_EPOCH)!.receiptsRoot;
} else {
  const range = { sinceMs: clock.boundsOf(BENCH_EPOCH).startMs, untilMs: clock.boundsOf(BENCH_EPOCH).endMs };
  const work = store.listWork(range);
  const verdicts = store.listVerdicts(range);
  computeRewardEntries({ shares, work, verdicts, ...rewards });
  const entry = await buildLogEntry({
    epoch: BENCH_EPOCH,
    ...clock.boundsOf(BENCH_EPOCH),
    prevLogRoot: GENESIS_LOG_ROOT,
    manifestBytes: new Uint8Array(0),
    receiptHashes: work.map((w) => w.receiptHash),
    verdicts,
  });
  receiptsRoot = entry.receiptsRoot;
}
const closeMs = performance.now() - t0;
clearInterval(timer);
// maxRSS is in KiB on Linux.
const peakRssGrowthMiB = (process.resourceUsage().maxRSS * 1024 - rssBefore) / 2 ** 20;
store.close();
console.log(JSON.stringify({ closeMs, peakRssGrowthMiB, longestStallMs, receiptsRoot }));
