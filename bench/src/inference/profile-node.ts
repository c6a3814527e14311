/**
 * `node bench/src/inference/profile-node.ts [--seconds 10] [--batching on|off] [--encoding json|binary]
 * [--out dir] [--top 25]`: the inference suite's HTTP load (64 closed-loop clients, one vibration window
 * per request) against one node process run with `--cpu-prof`, then the profile's top entries by self
 * time. Every thread of the node process writes a profile (the main thread and each inference worker);
 * each is summarised. The `.cpuprofile` files stay in `--out` for Chrome DevTools or speedscope.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NATIVE_INTRA_OP_THREADS } from './backends.ts';
import { closedLoopRate, openPool, type HttpRequestSpec } from './http-load.ts';
import { startNodeProcess } from './node-process.ts';
import { BATCHING_DELAY_US, CONCURRENT_CLIENTS, MAX_BATCH_SIZE } from './throughput.ts';
import {
  FP32_VERSION,
  VIBRATION_MODEL,
  vibrationArtifacts,
  vibrationWindows,
  windowBinaryBody,
  windowJsonBody,
  writeArtifacts,
} from './vibration.ts';

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

/** Self time per function (name + file:line), as a share of the thread's samples, biggest first. */
export function topSelfTime(profile: CpuProfile, top: number): { share: number; ms: number; name: string }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const msById = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    msById.set(id, (msById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000),
  );
  const byName = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of msById) {
    const f = byId.get(id)!.callFrame;
    const where = f.url ? ` ${path.basename(f.url)}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'}${where}`;
    byName.set(name, (byName.get(name) ?? 0) + ms);
    totalMs += ms;
  }
  return [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, share: ms / totalMs }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      batching: { type: 'string', default: 'on' },
      encoding: { type: 'string', default: 'json' },
      /** Clients in the closed loop (the suite's 64 by default; 1 for the latency path). */
      clients: { type: 'string', default: String(CONCURRENT_CLIENTS) },
      out: { type: 'string' },
      top: { type: 'string', default: '25' },
    },
  });
  const out = values.out ?? mkdtempSync(path.join(os.tmpdir(), 'hexedge-node-profile-'));
  rmSync(out, { recursive: true, force: true });
  const modelDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-profile-models-'));
  const { fp32 } = await vibrationArtifacts();
  await writeArtifacts(modelDir, [fp32]);
  const batching = values.batching === 'on';
  const node = await startNodeProcess({
    modelDir,
    ppocr: false,
    intraOpThreads: NATIVE_INTRA_OP_THREADS,
    maxBatchSize: batching ? MAX_BATCH_SIZE : 1,
    maxQueueDelayUs: batching ? BATCHING_DELAY_US : 0,
    cpuProfileDir: out,
  });
  const windows = vibrationWindows(64);
  const binary = values.encoding === 'binary';
  const encoder = new TextEncoder();
  const request: HttpRequestSpec = {
    method: 'POST',
    path: `/v2/models/${VIBRATION_MODEL}/versions/${FP32_VERSION}/infer`,
    bodies: windows.map((w) => (binary ? windowBinaryBody(w).body : encoder.encode(windowJsonBody(w)))),
    headers: binary ? windowBinaryBody(windows[0]!).headers : { 'content-type': 'application/json' },
  };
  const clients = Number(values.clients);
  const pool = openPool(node.url, clients);
  await closedLoopRate({ pool, request, concurrency: clients, durationMs: 2000 }); // JIT warm-up
  const rate = await closedLoopRate({
    pool,
    request,
    concurrency: clients,
    durationMs: Number(values.seconds) * 1000,
  });
  const stats = await node.stats();
  await pool.close();
  await node.close();
  rmSync(modelDir, { recursive: true, force: true });
  console.log(
    `${clients} clients, batching ${values.batching}, ${values.encoding}: ${rate.toFixed(0)} req/s; ${stats.runs ? (stats.rows / stats.runs).toFixed(1) : 0} rows per run`,
  );
  for (const file of readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const profile = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as CpuProfile;
    const totalMs = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
    console.log(`\n${file} (${(totalMs / 1000).toFixed(1)} s sampled)`);
    for (const e of topSelfTime(profile, Number(values.top)))
      console.log(`  ${(e.share * 100).toFixed(1).padStart(5)} %  ${e.name}`);
  }
  console.log(`\nprofiles in ${out}`);
}

if (process.argv[1] === import.meta.filename) await main();
