import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS_DIR, formatTable, readRows, ROWS_DIR } from './report.ts';

/** Clears the previous run's rows; at the end, prints the scenario table and writes faults.json. */
export function setup(): void {
  rmSync(ROWS_DIR, { recursive: true, force: true });
}

export function teardown(): void {
  const rows = readRows();
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  writeFileSync(path.join(ARTIFACTS_DIR, 'faults.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), scenarios: rows }, null, 2)}\n`);
  console.log(`\nfault suite (${rows.length} scenarios; test-artifacts/faults.json)\n${formatTable(rows)}\n`);
  for (const r of rows) console.log(`- ${r.scenario}: recovery = ${r.recovery}${r.notes.length ? `; ${r.notes.join('; ')}` : ''}`);
}
