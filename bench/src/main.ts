/**
 * `npm run bench [-- <suite>...] [--quick]`: runs each suite (bench/src/suites/<suite>.ts, which exports
 * `run({ quick }) → BenchRow[]`), prints its table and writes bench/results/<suite>.json, then
 * bench/results/summary.md with every table of the run.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { suiteProgress } from './progress.ts';
import { formatTable, writeResults, writeSummary, type BenchRow } from './report.ts';

export interface SuiteOptions {
  quick: boolean;
}
export interface Suite {
  run(options: SuiteOptions): Promise<BenchRow[]>;
}

const suitesDir = path.join(import.meta.dirname, 'suites');
const available = readdirSync(suitesDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const requested = args.filter((a) => !a.startsWith('--'));
const unknown = requested.filter((s) => !available.includes(s));
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const selected = requested.length ? requested : available;

let failed = false;
const progress = suiteProgress({ total: selected.length });
const done: { name: string; rows: BenchRow[] }[] = [];
for (const [i, name] of selected.entries()) {
  progress.start(i, name);
  try {
    const suite = (await import(path.join(suitesDir, `${name}.ts`))) as Suite;
    const rows = await suite.run({ quick });
    progress.end();
    console.log(`\n== ${name}${quick ? ' (quick)' : ''}`);
    console.log(formatTable(rows));
    console.log(`wrote ${writeResults(name, rows, { quick })}`);
    done.push({ name, rows });
  } catch (err) {
    progress.end();
    failed = true;
    console.error(`suite ${name} failed:`, err);
  }
}
if (done.length > 0) console.log(`\nwrote ${writeSummary(done, { quick })}`);
process.exit(failed ? 1 : 0);
