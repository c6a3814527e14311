import type { InferResponse } from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { descendantsOf, isAlive, startDev, waitUntil, type DevProcess } from '@hexedge/test-kit';

/**
 * Stopping `hexedge dev` loses no receipt report: the gateway's last batch (answers from the final
 * forwarding interval, still queued when the signal comes) reaches the oracle's durable store before
 * the oracle stops. Run as a user runs it (default data dir `.hexedge` under its working directory),
 * stopped by SIGTERM to its own pid (`kill`, npm), by SIGTERM to its whole process group (systemd's
 * default KillMode, a supervisor that signals the group) or by SIGINT to the group (a terminal's Ctrl-C).
 */
const API_KEY = 'shutdown-test-key-4f1';
/** Answers made just before the signal: well under a forward batch (100), so none is posted before it. */
const INFERENCES = 8;
const EXIT_DEADLINE_MS = 60_000;

let cwd: string | undefined;
let dev: DevProcess | undefined;

afterEach(async () => {
  if (dev && dev.child.exitCode === null && dev.child.signalCode === null) {
    // The test failed before its own signal: stop what it started (the whole group when detached).
    const group = dev.child.pid!;
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      dev.child.kill('SIGKILL');
    }
    await dev.exited;
  }
  dev = undefined;
  if (cwd) rmSync(cwd, { recursive: true, force: true });
  cwd = undefined;
});

async function startInTempDir(options: { detached: boolean }): Promise<DevProcess> {
  cwd = mkdtempSync(path.join(os.tmpdir(), 'hexedge-shutdown-'));
  dev = await startDev(
    ['--nodes', '1', '--port', '0', '--mqtt-port', '0', '--sim-speed', '0', '--api-key', API_KEY],
    { cwd, detached: options.detached },
  );
  return dev;
}

/** A handful of authenticated inferences, each with other readings; their request ids. */
async function inferSome(gatewayUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < INFERENCES; i++) {
    const res = await fetch(`${gatewayUrl}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'comfort-index',
        location: { lat: 52.37, lng: 4.9 },
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [[20 + i, 40 + i, 600 + i]] }],
      }),
    });
    const body = (await res.json()) as InferResponse;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.receipt.body.requestId).toBe(body.id);
    ids.push(body.id);
  }
  return ids;
}

/** The request ids of every receipt report in the oracle's store, read from its SQLite file (read-only). */
function storedReceiptRequestIds(dataDir: string): Set<string> {
  const db = new DatabaseSync(path.join(dataDir, 'oracle', 'oracle.sqlite'), { readOnly: true });
  try {
    const rows = db
      .prepare(
        `SELECT json_extract(json, '$.body.receipt.body.requestId') AS requestId FROM reports
         WHERE json_extract(json, '$.type') = 'receipt'`,
      )
      .all() as Array<{ requestId: string }>;
    return new Set(rows.map((r) => r.requestId));
  } finally {
    db.close();
  }
}

async function exitWithin(proc: DevProcess, deadlineMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `hexedge dev still running ${deadlineMs} ms after the signal:\n${proc.lines.slice(-30).join('\n')}`,
              ),
            ),
          deadlineMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function expectEveryReceiptStored(options: { signal: (d: DevProcess) => void }): Promise<void> {
  const d = dev!;
  const requestIds = await inferSome(d.gatewayUrl);
  const children = descendantsOf(d.child.pid!);
  expect(children.length).toBeGreaterThan(0);

  options.signal(d);
  expect(await exitWithin(d, EXIT_DEADLINE_MS)).toBe(0);
  // Nothing it started outlives it (the oracle, the node, Mosquitto).
  await waitUntil('every child of hexedge dev to be gone', () => children.every((pid) => !isAlive(pid)), {
    timeoutMs: 15_000,
  });

  const stored = storedReceiptRequestIds(path.join(cwd!, '.hexedge'));
  expect(requestIds.filter((id) => !stored.has(id))).toEqual([]);
  const failures = d.lines.filter((l) => /receipt forwarding|not delivered/.test(l));
  expect(failures).toEqual([]);
}

describe('stopping hexedge dev loses none of the gateway’s last receipt reports', () => {
  it('SIGTERM to the hexedge dev process: every answered receipt is in the oracle store', async () => {
    await startInTempDir({ detached: false });
    await expectEveryReceiptStored({ signal: (d) => d.child.kill('SIGTERM') });
  }, 180_000);

  it('SIGTERM to its whole process group (systemd, tini -g, a supervisor): every answered receipt is in the oracle store', async () => {
    await startInTempDir({ detached: true });
    await expectEveryReceiptStored({ signal: (d) => process.kill(-d.child.pid!, 'SIGTERM') });
  }, 180_000);

  it('SIGINT to its whole process group (a terminal’s Ctrl-C): every answered receipt is in the oracle store', async () => {
    await startInTempDir({ detached: true });
    // pgid = pid: spawned detached by this test, so the group is this test's own.
    await expectEveryReceiptStored({ signal: (d) => process.kill(-d.child.pid!, 'SIGINT') });
  }, 180_000);
});
