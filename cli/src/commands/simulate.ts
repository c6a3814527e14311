/**
 * `hexedge simulate [--nodes N] [--hours H] [--seed S] [--requests R] [--out DIR]`: the fabric at
 * internet scale on a simulated clock (real placement, the gateway's failover walk and the oracle's
 * trust code; @hexedge/simulator), printing a summary table and writing SVG plots and a JSON summary
 * to --out (default ./hexedge-simulate in the current directory, never the source tree).
 */
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatTable, machineInfo, scaleLabel, simulate, simulationRows, writePlots } from '@hexedge/simulator';
import { SIMULATE_ADVERSARIES_USAGE, simulateAdversariesCommand } from './simulate-adversaries.ts';

export const SIMULATE_USAGE = `  simulate   discrete-event simulation of the fabric (real placement, scoring, failover, planner, oracle trust)
             --nodes 100000  --hours 24  --seed 1  --requests (sampled; default 4 per node per simulated day)
             --out ./hexedge-simulate
${SIMULATE_ADVERSARIES_USAGE}`;

/** Where plots and the JSON summary go without --out: the current directory (the bench keeps its own under bench/results). */
const DEFAULT_OUT_DIR = 'hexedge-simulate';
/** Sampled requests per node per simulated day when --requests is not given (keeps a full day at 100k nodes to a few minutes). */
const DEFAULT_REQUESTS_PER_NODE_DAY = 4;

function positive(v: string | undefined, flag: string, fallback: number, o: { integer: boolean }): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || (o.integer && !Number.isInteger(n))) throw new Error(`${flag} must be a positive ${o.integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  return n;
}

export async function simulateCommand(argv: string[], log: (line: string) => void): Promise<void> {
  if (argv.includes('--adversaries')) return simulateAdversariesCommand(argv, log);
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string' }, hours: { type: 'string' }, seed: { type: 'string' }, requests: { type: 'string' }, out: { type: 'string' } } });
  const nodes = positive(values.nodes, '--nodes', 100_000, { integer: true });
  const hours = positive(values.hours, '--hours', 24, { integer: false });
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${JSON.stringify(values.seed)}`);
  const sampledRequests = positive(values.requests, '--requests', Math.max(1000, Math.round((DEFAULT_REQUESTS_PER_NODE_DAY * nodes * hours) / 24)), { integer: true });
  const out = path.resolve(values.out ?? DEFAULT_OUT_DIR);
  log(`simulating ${nodes} nodes for ${hours} h (seed ${seed}, ${sampledRequests} sampled requests)…`);
  const result = await simulate({
    nodes,
    hours,
    seed,
    sampledRequests,
    onProgress: ({ simulatedMs, requests }) => {
      if (simulatedMs % 3_600_000 < 600_000) process.stderr.write(`\r  ${(simulatedMs / 3_600_000).toFixed(1)} h simulated, ${requests} requests`);
    },
  });
  process.stderr.write('\n');
  const rows = simulationRows(result);
  log(formatTable(rows));
  log(`setup ${(result.setupMs / 1000).toFixed(1)} s (keys, signed registrations), event loop ${(result.loopMs / 1000).toFixed(1)} s`);
  mkdirSync(out, { recursive: true });
  const prefix = `simulate-${scaleLabel(nodes)}-${hours}h-seed${seed}`;
  for (const file of writePlots(result, { dir: out, prefix })) log(`plot: ${file}`);
  const json = path.join(out, `${prefix}.json`);
  writeFileSync(json, JSON.stringify({ suite: 'simulate', machine: machineInfo(), options: result.options, rows }, null, 2) + '\n');
  log(`wrote ${json}`);
}
