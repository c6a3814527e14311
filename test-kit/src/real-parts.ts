import { existsSync } from 'node:fs';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Real parts the tests run against, and the one documented way to do without one:
 * `HEXEDGE_SKIP_REAL_PARTS=mosquitto,chromium,netns` (README, "Running the tests"). Without that opt-out
 * a missing part FAILS the test file that needs it, naming the package to install; with it the tests
 * skip and the skip is written to test-artifacts/skipped-real-parts.jsonl, which the run's summary prints.
 */
export type RealPart = 'mosquitto' | 'chromium' | 'promtool' | 'netns';

const CANDIDATES: Record<Exclude<RealPart, 'netns'>, string[]> = {
  mosquitto: ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'],
  chromium: ['/usr/bin/chromium', '/usr/bin/chromium-browser'],
  promtool: ['/usr/bin/promtool', '/usr/local/bin/promtool'],
};
const INSTALL_HINT: Record<RealPart, string> = {
  mosquitto:
    'Debian/Ubuntu packages mosquitto and mosquitto-clients (npm test installs them as root; see README)',
  chromium: 'Debian package chromium (npm test installs it as root; see README)',
  promtool: 'Debian package prometheus, which ships promtool (npm test installs it as root; see README)',
  netns: 'root and iproute2 (ip netns); run the tests as root',
};
export const SKIP_ENV = 'HEXEDGE_SKIP_REAL_PARTS';
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const SKIPPED_FILE = path.join(REPO_ROOT, 'test-artifacts', 'skipped-real-parts.jsonl');

export const optedOut = (part: RealPart, env: NodeJS.ProcessEnv = process.env) =>
  (env[SKIP_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(part);

/** The part's binary, if this machine has it. */
export function findPart(part: Exclude<RealPart, 'netns'>): string | undefined {
  return CANDIDATES[part].find((p) => existsSync(p));
}

/**
 * What a test file needing `part` does: `{ skip: false, path }` when present; when missing, throws
 * (the file fails) unless the user opted out, then `{ skip: true, reason }` and the skip is recorded.
 */
export function requirePart(
  part: Exclude<RealPart, 'netns'>,
  testFile: string,
): { skip: false; path: string } | { skip: true; reason: string; path: undefined } {
  const found = findPart(part);
  if (found) return { skip: false, path: found };
  const reason = `${part} not found (${CANDIDATES[part].join(', ')}); install it: ${INSTALL_HINT[part]}`;
  if (!optedOut(part))
    throw new Error(
      `${reason}. To run without it on purpose, set ${SKIP_ENV}=${part} (the run then reports the skip).`,
    );
  recordSkip({ part, reason, testFile });
  return { skip: true, reason, path: undefined };
}

export function recordSkip(entry: { part: RealPart; reason: string; testFile: string }): void {
  mkdirSync(path.dirname(SKIPPED_FILE), { recursive: true });
  appendFileSync(
    SKIPPED_FILE,
    JSON.stringify({ ...entry, testFile: path.relative(REPO_ROOT, entry.testFile), atMs: Date.now() }) + '\n',
  );
}
