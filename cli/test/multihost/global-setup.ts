import { rmSync } from 'node:fs';
import { formatReport, readReport, REPORT_FILE } from './report.ts';

/** Clears the previous run's figures; at the end, prints them as tables (or why the run was skipped). */
export function setup(): void {
  rmSync(REPORT_FILE, { force: true });
}

export function teardown(): void {
  const report = readReport();
  console.log(
    `\n${report ? formatReport(report) : 'multi-host fabric: no figures were written (the scenario failed before its first check)'}\n`,
  );
}
