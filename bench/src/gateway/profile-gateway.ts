/**
 * `node bench/src/gateway/profile-gateway.ts [--seconds 10] [--warmup-s 5] [--mqtt] [--out dir] [--top 30]`:
 * the gateway suite's front process (front-process.ts: `buildGateway`, as `hexedge dev` builds it), one
 * real edge node behind it, the suite's 32 closed-loop HTTP clients (or, with `--mqtt`, its 32 MQTT
 * devices through the embedded broker and the ingress): after the warm-up, a CPU profile of the front
 * process over `--seconds` of load (V8's sampler through node:inspector, so start-up is not in it),
 * then the profile's top entries by self time, by inclusive time, and self time per package. The
 * `.cpuprofile` stays in `--out` for Chrome DevTools or speedscope. `--print FILE [--top N] [--last-s N]`
 * only summarises a profile written elsewhere (the load test's `--cpu-prof DIR`), or its last N seconds.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openPool } from '../inference/http-load.ts';
import { topSelfTime } from '../inference/profile-node.ts';
import { COMFORT_MODEL, startEdgeNode, writeComfortModel } from './edge-node.ts';
import { startFrontProcess } from './front-process.ts';
import { CONCURRENT_CLIENTS, requestSpecs } from './http-rows.ts';
import { closedLoop } from './load.ts';
import { connectDevices } from './mqtt-load.ts';
import { MQTT_CLIENTS } from './mqtt-rows.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const frameName = (f: ProfileNode['callFrame']) =>
  `${f.functionName || '(anonymous)'}${f.url ? ` ${path.basename(f.url)}:${f.lineNumber + 1}` : ''}`;

/** Where a frame's code lives: an npm package, a workspace package, node's own, or the VM. */
export function packageOf(url: string): string {
  if (!url) return '(native / VM)';
  if (url.startsWith('node:')) return 'node: built-ins';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const ws = /\/(protocol|placement|coverage-oracle|edge-node|firmware-bridge|gateway|cli|bench)\/src\//.exec(
    url,
  );
  return ws ? `@hexedge/${ws[1]}` : path.basename(url);
}

/** Inclusive time per function (each sample counted once per function on its stack), biggest first. */
export function topInclusiveTime(profile: CpuProfile, top: number): { share: number; name: string }[] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    all += ms;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = frameName(byId.get(at)!.callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + ms);
    }
  });
  return [...total]
    .filter(([name]) => !/^\((root|program|idle|garbage collector)\)/.test(name))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, share: ms / all }));
}

/** Self time per package (packageOf), biggest first. */
export function selfTimeByPackage(profile: CpuProfile): { share: number; name: string }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    all += ms;
    const f = byId.get(id)!.callFrame;
    const name = /^\((garbage collector|idle|program)\)$/.test(f.functionName)
      ? f.functionName
      : packageOf(f.url);
    total.set(name, (total.get(name) ?? 0) + ms);
  });
  return [...total].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, share: ms / all }));
}

/** The samples taken in the last `seconds` of the profile (a load window, without start-up). */
export function lastSeconds(profile: CpuProfile, seconds: number): CpuProfile {
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const from = total - seconds * 1e6;
  let at = 0;
  const keep: number[] = [];
  profile.timeDeltas.forEach((d, i) => {
    at += d;
    if (at >= from) keep.push(i);
  });
  return {
    nodes: profile.nodes,
    samples: keep.map((i) => profile.samples[i]!),
    timeDeltas: keep.map((i) => profile.timeDeltas[i]!),
  };
}

export function printProfile(file: string, top: number, options: { lastS?: number } = {}): void {
  const whole = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const profile = options.lastS ? lastSeconds(whole, options.lastS) : whole;
  const totalMs = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  const pct = (s: number) => `${(s * 100).toFixed(1).padStart(5)} %`;
  console.log(`\n${path.basename(file)} (${(totalMs / 1000).toFixed(1)} s sampled)\nself time:`);
  for (const e of topSelfTime(profile, top)) console.log(`  ${pct(e.share)}  ${e.name}`);
  console.log('inclusive time:');
  for (const e of topInclusiveTime(profile, top)) console.log(`  ${pct(e.share)}  ${e.name}`);
  console.log('self time by package:');
  for (const e of selfTimeByPackage(profile).slice(0, 20)) console.log(`  ${pct(e.share)}  ${e.name}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      /** Only summarise a .cpuprofile written elsewhere (`npm run test:load -- --cpu-prof DIR`). */
      print: { type: 'string' },
      /** With --print: only the profile's last N seconds (the load test's measured window). */
      'last-s': { type: 'string' },
      seconds: { type: 'string', default: '10' },
      'warmup-s': { type: 'string', default: '5' },
      mqtt: { type: 'boolean', default: false },
      /** HTTP clients in the closed loop (the gateway suite's 32 by default; 1 for the latency path). */
      clients: { type: 'string', default: String(CONCURRENT_CLIENTS) },
      out: { type: 'string' },
      top: { type: 'string', default: '30' },
    },
  });
  if (values.print)
    return printProfile(
      values.print,
      Number(values.top),
      values['last-s'] ? { lastS: Number(values['last-s']) } : {},
    );
  const out = values.out ?? mkdtempSync(path.join(os.tmpdir(), 'hexedge-gateway-profile-'));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-profile-gateway-'));
  const apiKey = `hx_bench_${randomBytes(18).toString('base64url')}`;
  const location = { lat: 52.5, lng: 13.43 };
  await writeComfortModel(path.join(dir, 'models'));
  const front = await startFrontProcess(
    {
      apiKey,
      heartbeatIntervalMs: 5_000,
      dataDir: path.join(dir, 'gateway'),
      modelsDir: path.join(dir, 'models'),
    },
    {},
  );
  const node = await startEdgeNode({
    dataDir: path.join(dir, 'node'),
    modelsDir: path.join(dir, 'models'),
    gatewayUrl: front.gatewayUrl,
    lat: 52.52,
    lng: 13.405,
  }).catch(async (err: Error) => {
    await front.close();
    throw err;
  });
  try {
    while ((await front.candidateCount({ model: COMFORT_MODEL, ...location })) === 0)
      await new Promise((r) => setTimeout(r, 50));
    const spec = requestSpecs({ apiKey, location }).gateway;
    const seconds = Number(values.seconds);
    const warmupMs = Number(values['warmup-s']) * 1000;
    const cpu0 = { at: 0, us: 0 };
    let count = 0;
    if (values.mqtt) {
      const brokerUrl = await front.startMqtt();
      const devices = await connectDevices({ brokerUrl, clients: MQTT_CLIENTS, password: apiKey });
      const route = {
        requestTopic: (clientId: string, id: string) => `hexedge/v1/req/${clientId}/${id}`,
        responseFilter: (clientId: string) => `hexedge/v1/res/${clientId}/+`,
        isOk: (payload: Buffer) => !payload.subarray(0, 16).toString('utf8').startsWith('{"error"'),
      };
      await devices.run({ route, payloads: spec.bodies, durationMs: warmupMs });
      await front.profileStart();
      cpu0.us = await front.cpuUs();
      const r = await devices.run({ route, payloads: spec.bodies, durationMs: seconds * 1000 });
      count = r.count;
      console.log(
        `MQTT ${MQTT_CLIENTS} devices: ${r.rate.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`,
      );
      await devices.close();
    } else {
      const clients = Number(values.clients);
      const pool = openPool(front.gatewayUrl, clients);
      await closedLoop({ pool, request: spec, concurrency: clients, durationMs: warmupMs });
      await front.profileStart();
      cpu0.us = await front.cpuUs();
      const r = await closedLoop({
        pool,
        request: spec,
        concurrency: clients,
        durationMs: seconds * 1000,
      });
      count = r.count;
      console.log(
        `HTTP ${clients} clients: ${r.rate.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`,
      );
      await pool.close();
    }
    console.log(
      `front-process CPU per request: ${(((await front.cpuUs()) - cpu0.us) / count).toFixed(0)} µs`,
    );
    await front.profileStop(path.join(out, 'gateway.cpuprofile'));
  } finally {
    await node.stop();
    await front.close();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const file of readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort())
    printProfile(path.join(out, file), Number(values.top));
  console.log(`\nprofiles in ${out}`);
}

if (process.argv[1] === import.meta.filename) await main();
