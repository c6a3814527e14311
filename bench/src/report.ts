import { formatTable, machineInfo, type BenchRow } from '@hexedge/simulator';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// The row format, its table and the machine description are the simulator's too (`hexedge simulate`
// prints them without the private bench package).
export { formatTable, machineInfo, percentile, type BenchRow, type MachineInfo } from '@hexedge/simulator';

export const RESULTS_DIR = path.resolve(import.meta.dirname, '../results');

export function writeResults(suite: string, rows: BenchRow[], extra: Record<string, unknown> = {}): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${suite}.json`);
  writeFileSync(file, JSON.stringify({ suite, machine: machineInfo(), at: new Date().toISOString(), ...extra, rows }, null, 2) + '\n');
  return file;
}

/** Median and spread of repeated measurements. */
export function summarize(samples: number[]): { median: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

/** bench/results/summary.md: every suite's table from this run, with the machine it ran on. */
export function writeSummary(suites: { name: string; rows: BenchRow[] }[], extra: { quick: boolean }): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const m = machineInfo();
  const parts = [
    `# HexEdge benchmarks${extra.quick ? ' (quick)' : ''}`,
    '',
    `${new Date().toISOString()} · ${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB · Node ${m.node} · ${m.platform}`,
    '',
    'Each figure stands next to its peer ("anchor") measured in the same run; ratio = value / anchor (or its inverse where lower is better, as each suite says).',
  ];
  for (const s of suites) parts.push('', `## ${s.name}`, '', formatTable(s.rows));
  const file = path.join(RESULTS_DIR, 'summary.md');
  writeFileSync(file, parts.join('\n') + '\n');
  return file;
}
