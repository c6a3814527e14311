import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where each scenario leaves its row; the suite's teardown merges them into faults.json. */
export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '../../../test-artifacts');
export const ROWS_DIR = path.join(ARTIFACTS_DIR, 'faults-rows');

export interface ScenarioRow {
  scenario: string;
  /** Requests (HTTP or MQTT) the clients sent during the scenario. */
  sent: number;
  /** Answered with a result (2xx / an MQTT answer without error). */
  answered: number;
  /** Answered with a documented error code and a message naming the cause. */
  failedClearly: number;
  /** Accepted (see `accepted`) and never answered, or answered twice: must be 0. */
  lost: number;
  /** Duplicated answers the client saw (same request id answered more than once). */
  duplicates: number;
  /** From the fault to the promised recovery (see `recovery`), in ms; null when not applicable. */
  recoveryMs: number | null;
  /** What recoveryMs measures, and what "accepted" means here. */
  recovery: string;
  notes: string[];
}

export function recordScenario(row: ScenarioRow): void {
  mkdirSync(ROWS_DIR, { recursive: true });
  const file = `${row.scenario.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.json`;
  writeFileSync(path.join(ROWS_DIR, file), `${JSON.stringify(row, null, 2)}\n`);
}

export function readRows(): ScenarioRow[] {
  let files: string[] = [];
  try {
    files = readdirSync(ROWS_DIR).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(path.join(ROWS_DIR, f), 'utf8')) as ScenarioRow);
}

export function formatTable(rows: ScenarioRow[]): string {
  const header = ['scenario', 'sent', 'answered', 'failed (clear error)', 'lost', 'dup', 'recovery ms'];
  const body = rows.map((r) => [r.scenario, r.sent, r.answered, r.failedClearly, r.lost, r.duplicates, r.recoveryMs === null ? '—' : Math.round(r.recoveryMs)].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
