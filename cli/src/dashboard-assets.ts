import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/** A build on two busy cores takes a few seconds; past this something is wrong, not slow. */
const BUILD_TIMEOUT_MS = 120_000;
/** A lock older than this belongs to a build that died; it is taken over (also at once when its owner is gone). */
const STALE_LOCK_MS = 150_000;

/** Whether the process that took the lock still runs (its pid is written inside the lock folder). */
async function lockOwnerAlive(lock: string): Promise<boolean> {
  const pid = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0) return true; // being created right now: assume alive
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
/** What the built bundle depends on: a change to any of them means the build is stale. */
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'package.json'];

const dashboardsDir = () =>
  path.dirname(createRequire(import.meta.url).resolve('@hexedge/dashboards/package.json'));

async function newestMtimeMs(p: string): Promise<number> {
  const s = await stat(p).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  const entries = await readdir(p);
  return Math.max(s.mtimeMs, ...(await Promise.all(entries.map((e) => newestMtimeMs(path.join(p, e))))));
}

async function isFresh(dir: string): Promise<boolean> {
  const built = await stat(path.join(dir, 'dist', 'index.html')).catch(() => undefined);
  if (!built) return false;
  const newest = Math.max(...(await Promise.all(SOURCES.map((s) => newestMtimeMs(path.join(dir, s))))));
  return built.mtimeMs >= newest;
}

function runViteBuild(options: { dir: string; outDir: string }): Promise<void> {
  // vite's exports map hides bin/; its package.json is exported and sits beside it.
  const vite = path.join(
    path.dirname(createRequire(path.join(options.dir, 'package.json')).resolve('vite/package.json')),
    'bin',
    'vite.js',
  );
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [vite, 'build', '--outDir', options.outDir, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    for (const s of [child.stdout, child.stderr])
      s.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(new Error(`dashboard build (vite build in ${options.dir}) failed with ${code}:\n${output}`));
    });
  });
}

/**
 * Builds dashboards/dist when it is missing or older than its sources. Several `hexedge dev`
 * processes may start at once (parallel test files), so one builds under a lock into a scratch
 * folder and swaps it in; the others wait and then find it fresh.
 */
export async function ensureDashboardBuilt(log: (message: string) => void): Promise<string> {
  const dir = dashboardsDir();
  const dist = path.join(dir, 'dist');
  if (await isFresh(dir)) return dist;
  const lock = path.join(dir, '.build-lock');
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = await stat(lock).catch(() => undefined);
      // A killed build (SIGKILL skips every cleanup) must not make the next start wait minutes.
      if (held && (Date.now() - held.mtimeMs > STALE_LOCK_MS || !(await lockOwnerAlive(lock))))
        await rm(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (await isFresh(dir)) return dist;
    const started = performance.now();
    const scratch = path.join(dir, `.dist-${process.pid}`);
    await runViteBuild({ dir, outDir: scratch });
    const old = path.join(dir, `.dist-old-${process.pid}`);
    if (existsSync(dist)) await rename(dist, old);
    await rename(scratch, dist);
    await rm(old, { recursive: true, force: true });
    log(`dashboard built in ${Math.round(performance.now() - started)} ms (${dist})`);
    return dist;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/**
 * The dashboards' build folder for the gateway to serve, without waiting for a build: a start must not
 * wait on Vite (seconds to minutes on a busy machine — a restarted gateway would be late for its own
 * backlog). When the build is missing or older than its sources it is (re)built in the background;
 * the gateway reads files per request, so the page appears once it is there (the previous build, if
 * any, meanwhile). An install without dev dependencies cannot build: /dashboard then says how to.
 */
export function dashboardDirInBackground(log: (message: string) => void): string {
  const dist = path.join(dashboardsDir(), 'dist');
  void ensureDashboardBuilt(log).catch((err: Error) => log(`dashboard not (re)built: ${err.message}`));
  return dist;
}
