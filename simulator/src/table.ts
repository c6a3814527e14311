/**
 * Result rows `{ name, value, unit, anchor, anchorValue, ratio, goal, met }` (every figure next to its
 * peer from the same run), their text table and the machine they ran on. The simulator's rows have this
 * shape; the bench's suites share it (bench/src/report.ts re-exports these).
 */
import os from 'node:os';

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

export function percentile(sortedAscending: ArrayLike<number>, p: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const i = Math.min(
    sortedAscending.length - 1,
    Math.max(0, Math.ceil((p / 100) * sortedAscending.length) - 1),
  );
  return sortedAscending[i]!;
}
