import { existsSync, readFileSync, rmSync } from 'node:fs';
import { SKIPPED_FILE } from './real-parts.ts';

/**
 * A vitest global setup for every suite of `npm test`: clears the record of skipped real parts at the
 * start, and at the end says what was skipped and why (HEXEDGE_SKIP_REAL_PARTS), or that nothing was.
 */
export function setup(): void {
  rmSync(SKIPPED_FILE, { force: true });
}

export function teardown(): void {
  const entries = existsSync(SKIPPED_FILE)
    ? readFileSync(SKIPPED_FILE, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { part: string; reason: string; testFile: string })
    : [];
  if (entries.length === 0) {
    console.log('\nreal parts: none skipped (Mosquitto, Chromium, network namespaces all ran)');
    return;
  }
  console.log(
    `\nreal parts SKIPPED in ${entries.length} test file(s), by HEXEDGE_SKIP_REAL_PARTS=${process.env.HEXEDGE_SKIP_REAL_PARTS ?? ''}:`,
  );
  for (const e of entries) console.log(`  ${e.testFile}: ${e.part}: ${e.reason}`);
}
