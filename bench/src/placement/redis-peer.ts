/**
 * Redis GEOSEARCH as a peer of the NodeIndex, on the placement suite's own nodes and queries. A
 * redis-server (started here, no persistence) holds the nodes in one sorted set (GEOADD, pipelined);
 * queries are `GEOSEARCH FROMLONLAT lng lat BYRADIUS r km ASC COUNT 5`, PIPELINE_DEPTH in flight on one
 * connection (RESP2 client over node:net, TCP no-delay). Redis figures include the loopback round trip
 * and this process's RESP encoding and parsing; the NodeIndex runs in process. Client and server share
 * the machine's cores.
 *
 * A radius query cannot see past its radius: where the 5 nearest nodes are farther than r, Redis
 * returns fewer (or other) nodes. Recall@5 is |answer ∩ brute-force top 5| / 5 over the checked queries.
 * The NodeIndex peer gets the same radius (`maxDistanceKm`) in the throughput rows; the recall rows
 * compare Redis with the NodeIndex's exact, unbounded k-nearest.
 */
import { NodeIndex, type IndexedPoint } from '@hexedge/placement';
import { formatSpread, interleave, pairRow, soloRow, type InferenceRow } from '../inference/rounds.ts';
import { percentile } from '../report.ts';
import { bruteForce, jitter, mulberry32 } from './points.ts';
import { startRedis, type RedisServer } from './redis-server.ts';
import type { RespClient, RespReply } from './resp-client.ts';

const K = 5;
const RADII_KM = [10, 100] as const;
/** Commands in flight per write (as `redis-benchmark -P 64`). */
const PIPELINE_DEPTH = 64;
/** Redis stores positions as 52-bit geohashes: latitudes are limited to ±85.05112878° (Web Mercator). */
const REDIS_MAX_ABS_LAT = 85.05112878;
const KEY = 'hexedge:bench:nodes';
const MOVE_KM = 2;
const ANCHOR = 'redis GEOSEARCH';

type LatLng = { lat: number; lng: number };

const geosearch = (q: LatLng, radiusKm: number) => ['GEOSEARCH', KEY, 'FROMLONLAT', q.lng, q.lat, 'BYRADIUS', radiusKm, 'km', 'ASC', 'COUNT', K];
const geoadd = (p: IndexedPoint) => ['GEOADD', KEY, p.lng, p.lat, p.id];

/** Runs `commands` PIPELINE_DEPTH at a time (each batch one write, awaited whole). */
async function pipelined(client: RespClient, commands: (string | number)[][]): Promise<RespReply[]> {
  const out: RespReply[] = [];
  for (let i = 0; i < commands.length; i += PIPELINE_DEPTH) out.push(...(await client.pipeline(commands.slice(i, i + PIPELINE_DEPTH))));
  return out;
}

async function usedMemoryBytes(client: RespClient): Promise<number> {
  const info = String(await client.send(['INFO', 'memory']));
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

export async function redisRows(options: { points: readonly IndexedPoint[]; queries: readonly LatLng[]; indexBytesPerNode: number; label: string; quick: boolean }): Promise<InferenceRow[]> {
  const started = await startRedis();
  if ('skipped' in started) {
    console.log(`redis GEOSEARCH peer: skipped (${started.skipped})`);
    return [];
  }
  const server: RedisServer = started;
  const client = await server.connect();
  try {
    console.log(`redis GEOSEARCH peer: redis-server ${server.version} on 127.0.0.1:${server.port}`);
    return await measure({ ...options, client });
  } finally {
    client.close();
    await server.stop();
  }
}

async function measure(o: { points: readonly IndexedPoint[]; queries: readonly LatLng[]; indexBytesPerNode: number; label: string; quick: boolean; client: RespClient }): Promise<InferenceRow[]> {
  const { client, label, quick, queries } = o;
  const rows: InferenceRow[] = [];
  const points = o.points.filter((p) => Math.abs(p.lat) <= REDIS_MAX_ABS_LAT);
  if (points.length < o.points.length) console.log(`redis: ${o.points.length - points.length} nodes beyond ±${REDIS_MAX_ABS_LAT}° latitude left out of both peers`);

  // Load: NodeIndex upserts in process vs GEOADD pipelined, one member per command (as nodes register).
  await client.send(['FLUSHALL']);
  const memBefore = await usedMemoryBytes(client);
  let t0 = performance.now();
  const index = new NodeIndex();
  for (const p of points) index.upsert(p);
  const indexLoadMs = performance.now() - t0;
  t0 = performance.now();
  await pipelined(client, points.map(geoadd));
  const redisLoadMs = performance.now() - t0;
  const redisBytesPerNode = ((await usedMemoryBytes(client)) - memBefore) / points.length;
  if ((await client.send(['ZCARD', KEY])) !== points.length) throw new Error('redis: GEOADD did not store every node');
  rows.push(pairRow({ name: `load ${label} nodes (one upsert / GEOADD each)`, unit: 'ms', value: [indexLoadMs], anchor: 'redis GEOADD pipelined', anchorValue: [redisLoadMs], better: 'lower' }));
  rows.push({
    name: `index memory @${label} vs redis used_memory`,
    value: o.indexBytesPerNode,
    unit: 'B/node',
    anchor: 'redis sorted set',
    anchorValue: redisBytesPerNode,
    ratio: redisBytesPerNode / o.indexBytesPerNode,
    goal: null,
    met: null,
  });

  // Throughput, interleaved: NodeIndex with the same radius vs GEOSEARCH, per radius.
  const batch = quick ? 1024 : 2048;
  let cursor = 0;
  const nextQueries = () => {
    const out = Array.from({ length: batch }, (_, i) => queries[(cursor + i) % queries.length]!);
    cursor += batch;
    return out;
  };
  const ours = (radiusKm: number) => async () => {
    const qs = nextQueries();
    const t = performance.now();
    for (const q of qs) index.nearest({ lat: q.lat, lng: q.lng, k: K, maxDistanceKm: radiusKm });
    return qs.length / ((performance.now() - t) / 1000);
  };
  const theirs = (radiusKm: number) => async () => {
    const commands = nextQueries().map((q) => geosearch(q, radiusKm));
    const t = performance.now();
    await pipelined(client, commands);
    return commands.length / ((performance.now() - t) / 1000);
  };
  const peers = Object.fromEntries(RADII_KM.flatMap((r) => [[`ours${r}`, ours(r)], [`redis${r}`, theirs(r)]])) as Record<string, () => Promise<number>>;
  const rates = await interleave({ rounds: quick ? 7 : 15, warmUpRounds: 2, peers });
  for (const r of RADII_KM) {
    rows.push(pairRow({ name: `queries/s @${label} k=${K} within ${r} km (redis ${PIPELINE_DEPTH} in flight)`, unit: 'q/s', value: rates[`ours${r}`]!, anchor: `${ANCHOR} r=${r} km`, anchorValue: rates[`redis${r}`]!, better: 'higher' }));
  }

  // Recall@5 against brute force: NodeIndex unbounded (exact) vs GEOSEARCH at each radius.
  const checked = quick ? 200 : 2000;
  const want = queries.slice(0, checked).map((q) => bruteForce(points as IndexedPoint[], q, K));
  const overlap = (got: readonly string[], truth: readonly { id: string }[]) => truth.filter((t) => got.includes(t.id)).length;
  const oursHits = queries.slice(0, checked).reduce((n, q, i) => n + overlap(index.nearest({ ...q, k: K }).map((x) => x.id), want[i]!), 0);
  for (const r of RADII_KM) {
    const answers = (await pipelined(client, queries.slice(0, checked).map((q) => geosearch(q, r)))) as string[][];
    const hits = answers.reduce((n, got, i) => n + overlap(got, want[i]!), 0);
    const short = answers.filter((a) => a.length < K).length;
    // Misses the radius explains (true neighbours beyond r) vs misses inside it (precision, ties).
    const reachable = want.reduce((n, w) => n + w.filter((x) => x.distanceKm <= r).length, 0);
    console.log(`redis r=${r} km: ${hits} of ${reachable} true neighbours within ${r} km found; ${checked * K - reachable} lie beyond the radius`);
    const oursRecall = (100 * oursHits) / (checked * K);
    const redisRecall = (100 * hits) / (checked * K);
    rows.push({
      name: `recall@${K} @${label} vs brute force (${checked} queries), r=${r} km`,
      value: oursRecall,
      unit: '%',
      anchor: `${ANCHOR} r=${r} km`,
      anchorValue: redisRecall,
      ratio: redisRecall > 0 ? oursRecall / redisRecall : null,
      goal: null,
      met: null,
    });
    rows.push(soloRow({ name: `${ANCHOR} r=${r} km: answers with < ${K} nodes`, unit: '%', value: [(100 * short) / checked] }));
  }

  // One update: an in-process move vs GEOADD of the moved member, awaited (round trip); PING is the
  // loopback floor. Then updates/s with GEOADD pipelined, as a feed of heartbeats would send them.
  const rand = mulberry32(23);
  const moved = () => {
    const p = points[Math.floor(rand() * points.length)]!;
    return { id: p.id, ...jitter(p.lat, p.lng, MOVE_KM, rand) };
  };
  const perBlock = quick ? 500 : 2000;
  // Moves are made before the clock starts; `await` only where there is a round trip to wait for.
  const syncBlock = (fn: (p: IndexedPoint) => void) => {
    const ps = Array.from({ length: perBlock }, moved);
    const us = new Float64Array(perBlock);
    for (let i = 0; i < perBlock; i++) {
      const t = performance.now();
      fn(ps[i]!);
      us[i] = (performance.now() - t) * 1000;
    }
    return us.sort();
  };
  const asyncBlock = async (fn: (p: IndexedPoint) => Promise<unknown>) => {
    const ps = Array.from({ length: perBlock }, moved);
    const us = new Float64Array(perBlock);
    for (let i = 0; i < perBlock; i++) {
      const t = performance.now();
      await fn(ps[i]!);
      us[i] = (performance.now() - t) * 1000;
    }
    return us.sort();
  };
  const p99s: Record<'ours' | 'redis', number[]> = { ours: [], redis: [] };
  const lat = await interleave({
    rounds: quick ? 5 : 11,
    warmUpRounds: 1,
    peers: {
      ours: async () => {
        const us = syncBlock((p) => index.upsert(p));
        p99s.ours.push(percentile(us, 99));
        return percentile(us, 50);
      },
      redis: async () => {
        const us = await asyncBlock((p) => client.send(geoadd(p)));
        p99s.redis.push(percentile(us, 99));
        return percentile(us, 50);
      },
      ping: async () => percentile(await asyncBlock(() => client.send(['PING'])), 50),
    },
  });
  // Drop the warm-up round's p99 (interleave discards only the returned p50s).
  p99s.ours.shift();
  p99s.redis.shift();
  rows.push(pairRow({ name: `move p50 @${label} vs GEOADD round trip`, unit: 'µs', value: lat.ours, anchor: 'redis GEOADD (1 in flight)', anchorValue: lat.redis, better: 'lower' }));
  rows.push(pairRow({ name: `move p99 @${label} vs GEOADD round trip`, unit: 'µs', value: p99s.ours, anchor: 'redis GEOADD (1 in flight)', anchorValue: p99s.redis, better: 'lower' }));
  rows.push(soloRow({ name: 'redis PING round trip p50 (loopback floor)', unit: 'µs', value: lat.ping }));
  const updateBatch = quick ? 4096 : 16_384;
  const ups = await interleave({
    rounds: quick ? 5 : 11,
    peers: {
      ours: async () => {
        const ps = Array.from({ length: updateBatch }, moved);
        const t = performance.now();
        for (const p of ps) index.upsert(p);
        return ps.length / ((performance.now() - t) / 1000);
      },
      redis: async () => {
        const commands = Array.from({ length: updateBatch }, () => geoadd(moved()));
        const t = performance.now();
        await pipelined(client, commands);
        return commands.length / ((performance.now() - t) / 1000);
      },
    },
  });
  rows.push(pairRow({ name: `moves/s @${label} vs GEOADD pipelined`, unit: 'moves/s', value: ups.ours, anchor: `redis GEOADD (${PIPELINE_DEPTH} in flight)`, anchorValue: ups.redis, better: 'higher' }));
  console.log(`redis peer, spread over rounds (min–max):\n${formatSpread(rows)}`);
  return rows;
}
