import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One measured figure next to its peer ("anchor") from the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  anchor: string | null;
  anchorValue: number | null;
  /** value / anchorValue (or the inverse for lower-is-better units, as the suite documents). */
  ratio: number | null;
  goal: string | null;
  met: boolean | null;
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  memoryGiB: number;
}

export function machineInfo(): MachineInfo {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

export const RESULTS_DIR = path.resolve(import.meta.dirname, '../results');

export function writeResults(suite: string, rows: BenchRow[], extra: Record<string, unknown> = {}): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${suite}.json`);
  writeFileSync(file, JSON.stringify({ suite, machine: machineInfo(), at: new Date().toISOString(), ...extra, rows }, null, 2) + '\n');
  return file;
}

const fmt = (v: number | null): string =>
  v === null ? '-' : Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(3);

export function formatTable(rows: BenchRow[]): string {
  const header = ['name', 'value', 'unit', 'anchor', 'anchorValue', 'ratio', 'goal', 'met'];
  const body = rows.map((r) => [
    r.name,
    fmt(r.value),
    r.unit,
    r.anchor ?? '-',
    fmt(r.anchorValue),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`,
    r.goal ?? '-',
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Median and spread of repeated measurements. */
export function summarize(samples: number[]): { median: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

export function percentile(sortedAscending: ArrayLike<number>, p: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const i = Math.min(sortedAscending.length - 1, Math.max(0, Math.ceil((p / 100) * sortedAscending.length) - 1));
  return sortedAscending[i]!;
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
