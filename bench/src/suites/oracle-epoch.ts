/**
 * Closing a reward epoch at scale: `RewardStage.closeEpoch` on the SQLite store for 100 k and 1 M work
 * records (an hour at 1 700 answers a second is ~6 M), beside the materialised reads it replaced (every
 * work record parsed into one array, the log entry's Merkle roots over all leaves at once). Each close
 * runs in a process of its own on a copy of the same file: time, peak RSS growth (heap and SQLite's page
 * cache together) and the longest event-loop stall (what ingest waits at worst meanwhile). Lower is
 * better: ratio = materialised / streaming.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeEpochFixture } from '../oracle/epoch-close-data.ts';
import type { BenchRow } from '../report.ts';

interface CloseRun {
  closeMs: number;
  peakRssGrowthMiB: number;
  longestStallMs: number;
  receiptsRoot: string;
}

const child = path.join(import.meta.dirname, '../oracle/epoch-close-child.ts');

function closeOnce(options: { fixture: string; dir: string; mode: 'stage' | 'materialised' }): CloseRun {
  const file = path.join(options.dir, `run-${options.mode}.sqlite`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  copyFileSync(options.fixture, file);
  const out = execFileSync(process.execPath, ['--no-warnings', child, file, options.mode], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  return JSON.parse(out.trim().split('\n').at(-1)!) as CloseRun;
}

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-bench-epoch-'));
  const rows: BenchRow[] = [];
  try {
    for (const workCount of quick ? [100_000] : [100_000, 1_000_000]) {
      const fixture = path.join(dir, `fixture-${workCount}.sqlite`);
      if (!existsSync(fixture)) writeEpochFixture({ file: fixture, workCount });
      const old = closeOnce({ fixture, dir, mode: 'materialised' });
      const now = closeOnce({ fixture, dir, mode: 'stage' });
      if (old.receiptsRoot !== now.receiptsRoot)
        throw new Error(`receipts roots differ: ${old.receiptsRoot} (materialised) ≠ ${now.receiptsRoot}`);
      const label = `${workCount / 1000}k work records`;
      const row = (what: string, unit: string, value: number, anchorValue: number): BenchRow => ({
        name: `close epoch, ${label}: ${what}`,
        value,
        unit,
        anchor: `materialised reads (${what})`,
        anchorValue,
        ratio: anchorValue / value,
        goal: null,
        met: null,
      });
      rows.push(
        row('time', 'ms', now.closeMs, old.closeMs),
        row('peak RSS growth', 'MiB', now.peakRssGrowthMiB, old.peakRssGrowthMiB),
        row('longest event-loop stall', 'ms', now.longestStallMs, old.longestStallMs),
      );
      console.log(`${label}: streaming ${JSON.stringify(now)}; materialised ${JSON.stringify(old)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
