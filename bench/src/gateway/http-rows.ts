/**
 * POST /v1/infer through the gateway (key check, schema, placement, forward with PooledNodeClient,
 * receipt check) against the bare undici proxy in front of the same node, and the node served
 * directly, with the same requests: one comfort-index reading [temperature °C, humidity %, CO2 ppm] as
 * OIP FP32 [1, 3] (the gateway's body adds model, version and location). Rounds interleave the peers
 * (order rotating); rates are medians over rounds, times medians of per-round percentiles.
 */
import type { Pool } from 'undici';
import { openPool, type HttpRequestSpec } from '../inference/http-load.ts';
import { interleave, median, pairRow, soloRow, type InferenceRow } from '../inference/rounds.ts';
import { COMFORT_MODEL, COMFORT_VERSION } from './edge-node.ts';
import { closedLoop, oneAtATime, type LatencyResult } from './load.ts';

export const CONCURRENT_CLIENTS = 32;
const THROUGHPUT_GOAL = { text: '≥0.85× proxy', met: (ratio: number) => ratio >= 0.85 };
/** Issue 19's goals: the gateway adds at most 0.3 ms at concurrency 1 and spends at most 0.4 ms of CPU per request. */
const ADDED_P50_GOAL_MS = 0.3;
const CPU_PER_REQUEST_GOAL_US = 400;
const encoder = new TextEncoder();

type Peer = 'gateway' | 'proxy' | 'direct';

/** Indoor readings around the comfort point, varied so bodies and digests differ request to request. */
export function comfortReadings(count: number): number[][] {
  return Array.from({ length: count }, (_, i) => [
    19 + (i % 11),
    30 + ((i * 7) % 50),
    450 + ((i * 97) % 1200),
  ]);
}

/** Request i's OIP body for the proxy and direct rows, without its id (forward-headers.ts adds a unique one). */
export function oipBodyOf(i: number): Record<string, unknown> {
  const readings = comfortReadings(64);
  return { inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: readings[i % 64] }] };
}

export function requestSpecs(options: {
  apiKey: string;
  location: { lat: number; lng: number };
  /** Each request straight to the node, a fresh forward: its body and headers (forward-headers.ts). */
  forwardFor?: HttpRequestSpec['fresh'];
}): Record<Peer, HttpRequestSpec> {
  const readings = comfortReadings(64);
  const inputs = (r: number[]) => [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: r }];
  const oip: HttpRequestSpec = {
    method: 'POST',
    path: `/v2/models/${COMFORT_MODEL}/versions/${COMFORT_VERSION}/infer`,
    bodies: readings.map((_, i) => encoder.encode(JSON.stringify(oipBodyOf(i)))),
    headers: { 'content-type': 'application/json' },
    ...(options.forwardFor ? { fresh: options.forwardFor } : {}),
  };
  return {
    gateway: {
      method: 'POST',
      path: '/v1/infer',
      bodies: readings.map((r) =>
        encoder.encode(
          JSON.stringify({
            model: COMFORT_MODEL,
            version: COMFORT_VERSION,
            location: options.location,
            inputs: inputs(r),
          }),
        ),
      ),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
    },
    proxy: oip,
    direct: oip,
  };
}

interface GatewayTiming {
  placementMs: number;
  nodeMs: number;
  totalMs: number;
}

export async function httpRows(options: {
  urls: Record<Peer, string>;
  apiKey: string;
  location: { lat: number; lng: number };
  /** The front process's CPU clock (gateway and proxy live there). */
  frontCpuUs: () => Promise<number>;
  /** The edge node's CPU clock: what each peer's requests cost the node that serves them. */
  nodeCpuUs?: () => number;
  forwardFor?: HttpRequestSpec['fresh'];
  quick: boolean;
}): Promise<InferenceRow[]> {
  const { urls, quick } = options;
  const specs = requestSpecs(options);
  const peers = Object.keys(urls) as Peer[];
  const rows: InferenceRow[] = [];

  // Throughput and latency under load: CONCURRENT_CLIENTS closed-loop clients on each peer in turn.
  const loadPools = Object.fromEntries(
    peers.map((p) => [p, openPool(urls[p], CONCURRENT_CLIENTS)]),
  ) as Record<Peer, Pool>;
  const underLoad: Record<Peer, LatencyResult[]> = { gateway: [], proxy: [], direct: [] };
  const cpuPerRequestUs: Record<Peer, number[]> = { gateway: [], proxy: [], direct: [] };
  const nodeCpuPerRequestUs: Record<Peer, number[]> = { gateway: [], proxy: [], direct: [] };
  const durationMs = quick ? 1000 : 2500;
  const load = (p: Peer) => async () => {
    const cpu0 = await options.frontCpuUs();
    const node0 = options.nodeCpuUs?.() ?? 0;
    const r = await closedLoop({
      pool: loadPools[p],
      request: specs[p],
      concurrency: CONCURRENT_CLIENTS,
      durationMs,
    });
    cpuPerRequestUs[p].push(((await options.frontCpuUs()) - cpu0) / r.count);
    if (options.nodeCpuUs) nodeCpuPerRequestUs[p].push((options.nodeCpuUs() - node0) / r.count);
    underLoad[p].push(r);
    return r.rate;
  };
  // Every process here needs ~10 s of load before its JIT settles (measured: the gateway's CPU per
  // request falls from ~1 ms to ~0.35 ms over its first 14 s of load), so the first rounds are warm-up.
  const warmUpRounds = quick ? 3 : 4;
  const rates = await interleave({
    rounds: quick ? 3 : 7,
    warmUpRounds,
    peers: { gateway: load('gateway'), proxy: load('proxy'), direct: load('direct') },
  });
  await Promise.all(Object.values(loadPools).map((p) => p.close()));
  // interleave drops the warm-up rounds' return values; drop their latencies too.
  for (const p of peers) {
    underLoad[p].splice(0, warmUpRounds);
    cpuPerRequestUs[p].splice(0, warmUpRounds);
    nodeCpuPerRequestUs[p].splice(0, warmUpRounds);
  }
  const at = (p: Peer, key: 'p50Ms' | 'p99Ms') => underLoad[p].map((r) => r[key]);
  const c = CONCURRENT_CLIENTS;
  rows.push(
    pairRow({
      name: `HTTP ${c} clients: gateway vs bare undici proxy`,
      unit: 'req/s',
      value: rates.gateway,
      anchor: 'bare proxy',
      anchorValue: rates.proxy,
      better: 'higher',
      goal: THROUGHPUT_GOAL,
    }),
  );
  rows.push(
    pairRow({
      name: `HTTP ${c} clients: bare proxy vs node direct`,
      unit: 'req/s',
      value: rates.proxy,
      anchor: 'node direct',
      anchorValue: rates.direct,
      better: 'higher',
    }),
  );
  rows.push(
    pairRow({
      name: `HTTP ${c} clients: gateway p50 vs proxy`,
      unit: 'ms',
      value: at('gateway', 'p50Ms'),
      anchor: 'bare proxy p50',
      anchorValue: at('proxy', 'p50Ms'),
      better: 'lower',
    }),
  );
  rows.push(
    pairRow({
      name: `HTTP ${c} clients: gateway p99 vs proxy`,
      unit: 'ms',
      value: at('gateway', 'p99Ms'),
      anchor: 'bare proxy p99',
      anchorValue: at('proxy', 'p99Ms'),
      better: 'lower',
    }),
  );
  // CPU time of the front process per request served (all its threads, WebCrypto's pool included).
  rows.push(
    pairRow({
      name: `CPU per request of the gateway process (HTTP ${c} clients) vs bare proxy`,
      unit: 'µs',
      value: cpuPerRequestUs.gateway,
      anchor: 'bare proxy',
      anchorValue: cpuPerRequestUs.proxy,
      better: 'lower',
      goal: { text: `≤${CPU_PER_REQUEST_GOAL_US} µs`, met: (_r, v) => v <= CPU_PER_REQUEST_GOAL_US },
    }),
  );

  // The node's side of the same requests: the gateway forwards binary tensors with a forward MAC (a
  // batch-signed forward until the node's first answer) where the proxy passes JSON bodies with the
  // MAC the load generator made for each; every forward is new to the node (its replay guard), and
  // both processes share the machine's cores with the front process.
  if (options.nodeCpuUs)
    rows.push(
      pairRow({
        name: `CPU per request of the edge node (HTTP ${c} clients): gateway's requests vs the proxy's`,
        unit: 'µs',
        value: nodeCpuPerRequestUs.gateway,
        anchor: "proxy's requests",
        anchorValue: nodeCpuPerRequestUs.proxy,
        better: 'lower',
      }),
    );

  // Concurrency 1: one keep-alive connection per peer, blocks of requests one at a time.
  const single = Object.fromEntries(peers.map((p) => [p, openPool(urls[p], 1)])) as Record<Peer, Pool>;
  const perBlock = quick ? 300 : 1000;
  const one: Record<Peer, LatencyResult[]> = { gateway: [], proxy: [], direct: [] };
  const timing: Record<keyof GatewayTiming | 'outsideMs', number[]> = {
    placementMs: [],
    nodeMs: [],
    totalMs: [],
    outsideMs: [],
  };
  const block = (p: Peer) => async () => {
    const seen: Record<keyof typeof timing, number[]> = {
      placementMs: [],
      nodeMs: [],
      totalMs: [],
      outsideMs: [],
    };
    const onAnswer =
      p === 'gateway'
        ? (text: string, ms: number) => {
            const t = (JSON.parse(text) as { timing: GatewayTiming }).timing;
            seen.placementMs.push(t.placementMs);
            seen.nodeMs.push(t.nodeMs);
            seen.totalMs.push(t.totalMs - t.nodeMs);
            seen.outsideMs.push(ms - t.totalMs);
          }
        : undefined;
    const r = await oneAtATime({
      pool: single[p],
      request: specs[p],
      count: perBlock,
      ...(onAnswer ? { onAnswer } : {}),
    });
    one[p].push(r);
    if (onAnswer) for (const k of Object.keys(seen) as (keyof typeof seen)[]) timing[k].push(median(seen[k]));
    return r.p50Ms;
  };
  const p50 = await interleave({
    rounds: quick ? 5 : 11,
    peers: { gateway: block('gateway'), proxy: block('proxy'), direct: block('direct') },
  });
  await Promise.all(Object.values(single).map((p) => p.close()));
  for (const p of peers) one[p].shift();
  for (const k of Object.keys(timing) as (keyof typeof timing)[]) timing[k].shift();
  const p99 = (p: Peer) => one[p].map((r) => r.p99Ms);
  rows.push(
    pairRow({
      name: 'concurrency 1: gateway p50 vs proxy',
      unit: 'ms',
      value: p50.gateway,
      anchor: 'bare proxy p50',
      anchorValue: p50.proxy,
      better: 'lower',
    }),
  );
  rows.push(
    pairRow({
      name: 'concurrency 1: gateway p99 vs proxy',
      unit: 'ms',
      value: p99('gateway'),
      anchor: 'bare proxy p99',
      anchorValue: p99('proxy'),
      better: 'lower',
    }),
  );
  rows.push(
    soloRow({
      name: 'gateway added p50 at concurrency 1 (gateway − proxy p50, per round)',
      unit: 'ms',
      value: p50.gateway.map((g, i) => g - p50.proxy[i]!),
      goal: { text: `≤${ADDED_P50_GOAL_MS} ms`, met: (_r, v) => v <= ADDED_P50_GOAL_MS },
    }),
  );
  rows.push(
    pairRow({
      name: 'concurrency 1: proxy p50 vs node direct',
      unit: 'ms',
      value: p50.proxy,
      anchor: 'node direct p50',
      anchorValue: p50.direct,
      better: 'lower',
    }),
  );
  // Where the gateway's time goes (its own `timing` answer, p50 per round): placement, the node round
  // trip as the gateway sees it, the rest of the handler (schema, receipt check, answer), and what
  // lies outside the handler (HTTP parse/serialise in hono + node-server, auth, the client's socket).
  rows.push(
    soloRow({
      name: 'gateway timing: placementMs p50 (schema + placement)',
      unit: 'ms',
      value: timing.placementMs,
    }),
  );
  rows.push(
    soloRow({
      name: 'gateway timing: nodeMs p50 (PooledNodeClient round trip)',
      unit: 'ms',
      value: timing.nodeMs,
    }),
  );
  rows.push(
    soloRow({
      name: 'gateway timing: totalMs − nodeMs p50 (handler without node)',
      unit: 'ms',
      value: timing.totalMs,
    }),
  );
  rows.push(
    soloRow({
      name: 'gateway timing: client p50 − totalMs (outside the handler)',
      unit: 'ms',
      value: timing.outsideMs,
    }),
  );
  return rows;
}
