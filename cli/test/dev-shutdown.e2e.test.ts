import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { descendantsOf, isAlive, startDev, startProcess, waitUntil, type Proc } from '@hexedge/test-kit';
import { exitWithin, inferSome, storedReceiptRequestIds } from './shutdown-helpers.ts';

/**
 * Stopping `hexedge dev` loses no receipt report: the gateway's last batch (answers from the final
 * forwarding interval, still queued when the signal comes) reaches the oracle's durable store before
 * the oracle stops, and nothing `hexedge dev` started outlives it. Run as a user runs it (default data
 * dir `.hexedge` under its working directory, or `npm start`), stopped by SIGTERM to its own pid
 * (`kill`), by SIGTERM to its whole process group (systemd's default KillMode, a supervisor that
 * signals the group), by SIGINT to the group (a terminal's Ctrl-C), or by SIGTERM to `npm start`.
 */
const API_KEY = 'shutdown-test-key-4f1';
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const DEV_FLAGS = [
  '--nodes',
  '1',
  '--port',
  '0',
  '--mqtt-port',
  '0',
  '--sim-speed',
  '0',
  '--api-key',
  API_KEY,
];
/** Answers made just before the signal: well under a forward batch (100), so none is posted before it. */
const INFERENCES = 8;
const EXIT_DEADLINE_MS = 60_000;

let tempDir: string | undefined;
/** Every process this test started (the one it spawned and its descendants), to clean up after a failure. */
let started: number[] = [];

afterEach(() => {
  // Only what this test started, each by its pid; after a passing test all are gone already.
  for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  started = [];
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
});

interface Started {
  proc: Proc;
  gatewayUrl: string;
  dataDir: string;
}

/** `hexedge dev` with its default data dir (`.hexedge`) in a temp working directory, in a process group of its own. */
async function startDevInTempDir(): Promise<Started> {
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-shutdown-'));
  const dev = await startDev(DEV_FLAGS, { cwd: tempDir, detached: true });
  return { proc: dev, gatewayUrl: dev.gatewayUrl, dataDir: path.join(tempDir, '.hexedge') };
}

/** `npm start` in the repository (its `start` script: `hexedge dev`), flags after `--`. */
async function startNpmStart(): Promise<Started> {
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-shutdown-npm-'));
  const dataDir = path.join(tempDir, '.hexedge');
  const proc = await startProcess({
    name: 'npm start',
    command: 'npm',
    args: ['start', '--', ...DEV_FLAGS, '--data-dir', dataDir],
    cwd: REPO_ROOT,
    detached: true,
    ready: /^hexedge dev oracle: (\S+)/,
    timeoutMs: 120_000,
  });
  const ready = await proc.waitForLine(/ready: gateway (\S+)/, 1_000);
  return { proc, gatewayUrl: ready[1]!, dataDir };
}

async function expectEveryReceiptStored(
  { proc, gatewayUrl, dataDir }: Started,
  options: { signal: (pid: number) => void; exitCode?: number; oracleDefers?: string },
): Promise<void> {
  const pid = proc.child.pid!;
  const requestIds = await inferSome({
    gatewayUrl,
    apiKey: API_KEY,
    count: INFERENCES,
    location: { lat: 52.37, lng: 4.9 },
    firstReadings: [20, 40, 600],
  });
  const children = descendantsOf(pid);
  started = [pid, ...children];
  expect(children.length).toBeGreaterThan(0);

  options.signal(pid);
  const code = await exitWithin(proc, { deadlineMs: EXIT_DEADLINE_MS, what: 'hexedge dev' });
  if (options.exitCode !== undefined) expect(code).toBe(options.exitCode);
  // Nothing it started outlives it (hexedge dev under npm, the oracle, the node, Mosquitto).
  await waitUntil(`every process under ${pid} to be gone`, () => children.every((child) => !isAlive(child)), {
    timeoutMs: EXIT_DEADLINE_MS,
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.lines.slice(-30).join('\n')}`);
  });

  const stored = storedReceiptRequestIds(path.join(dataDir, 'oracle', 'oracle.sqlite'));
  // The log's end says why, when one is missing.
  expect(
    requestIds.filter((id) => !stored.has(id)),
    proc.lines.slice(-40).join('\n'),
  ).toEqual([]);
  const failures = proc.lines.filter((l) => /receipt forwarding|not delivered/.test(l));
  expect(failures).toEqual([]);
  // The group's signal did reach the oracle, which waited for the gateway instead of stopping.
  if (options.oracleDefers)
    expect(proc.lines).toContain(
      `oracle: ${options.oracleDefers}: stopping when hexedge dev stops it, after the gateway's last receipt reports`,
    );
}

describe('stopping hexedge dev loses none of the gateway’s last receipt reports', () => {
  it('SIGTERM to the hexedge dev process: every answered receipt is in the oracle store', async () => {
    await expectEveryReceiptStored(await startDevInTempDir(), {
      signal: (pid) => process.kill(pid, 'SIGTERM'),
      exitCode: 0,
    });
  }, 180_000);

  it('SIGTERM to its whole process group (systemd, tini -g, a supervisor): every answered receipt is in the oracle store', async () => {
    // pgid = pid: spawned detached by this test, so the group is this test's own.
    await expectEveryReceiptStored(await startDevInTempDir(), {
      signal: (pid) => process.kill(-pid, 'SIGTERM'),
      exitCode: 0,
      oracleDefers: 'SIGTERM',
    });
  }, 180_000);

  it('SIGINT to its whole process group (a terminal’s Ctrl-C): every answered receipt is in the oracle store', async () => {
    await expectEveryReceiptStored(await startDevInTempDir(), {
      signal: (pid) => process.kill(-pid, 'SIGINT'),
      exitCode: 0,
      oracleDefers: 'SIGINT',
    });
  }, 180_000);

  it('SIGTERM to `npm start`: hexedge dev stops too (not orphaned), and every answered receipt is in the oracle store', async () => {
    await expectEveryReceiptStored(await startNpmStart(), { signal: (pid) => process.kill(pid, 'SIGTERM') });
  }, 180_000);
});
