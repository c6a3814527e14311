import { generateNodeKeyPair, signBody, type NodeKeyPair } from '@hexedge/protocol';
import { openSync, closeSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canMount, mountTmpfs, remount, unmount } from './disk.ts';
import { ADMIN_KEY, NODE_PLACES, scratch, startGatewayProcess, type GatewayOptions } from './fabric.ts';
import { freePort, waitUntil, type Proc } from '@hexedge/test-kit';
import { recordScenario } from './report.ts';

/**
 * The gateway's data directory (SQLite: placement and API keys) on a tmpfs that is made read-only, or
 * filled up, under it. Promised: a clear error naming the cause, no half-applied write, and the state
 * intact (and `PRAGMA integrity_check` ok) once the disk is writable again.
 */
let fs: Awaited<ReturnType<typeof scratch>>;
let mountable: ReturnType<typeof canMount>;
const mounts: string[] = [];
const procs: Proc[] = [];

const registration = async (node: NodeKeyPair, place: { lat: number; lng: number }) =>
  signBody(
    'registration',
    {
      nodeId: node.nodeId,
      issuedAtMs: Date.now(),
      url: 'http://127.0.0.1:9',
      location: place,
      hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
      models: [],
    },
    node.privateKey,
  );

interface WriteResult {
  status: number;
  code?: string;
  message?: string;
  requestId?: string;
}

async function post(url: string, body: unknown, auth = false): Promise<WriteResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(auth ? { authorization: `Bearer ${ADMIN_KEY}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const json = (await res.json().catch(() => ({}))) as {
      error?: { code: string; message: string; requestId?: string };
    };
    return {
      status: res.status,
      ...(json.error
        ? {
            code: json.error.code,
            message: json.error.message,
            ...(json.error.requestId ? { requestId: json.error.requestId } : {}),
          }
        : {}),
    };
  } catch (err) {
    return { status: 0, message: (err as Error).message };
  }
}

function integrity(file: string): string {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  fs = await scratch('disk');
  mountable = canMount(path.join(fs.dir, 'probe'));
});

afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  for (const m of mounts) unmount(m);
  await fs?.cleanup();
});

describe('fault: read-only data directory and a full disk', () => {
  it('refuses to start on a read-only data directory with a clear error, and starts with its state once writable', async (ctx) => {
    if (!mountable.ok) {
      recordScenario({
        scenario: 'read-only data dir',
        sent: 0,
        answered: 0,
        failedClearly: 0,
        lost: 0,
        duplicates: 0,
        recoveryMs: null,
        recovery: 'not run',
        notes: [`cannot mount a tmpfs here: ${mountable.why}`],
      });
      return ctx.skip();
    }
    const mount = path.join(fs.dir, 'ro');
    mountTmpfs(mount, { sizeBytes: 8 * 2 ** 20 });
    mounts.push(mount);
    const options: GatewayOptions = {
      dataDir: path.join(mount, 'gateway'),
      configFile: path.join(fs.dir, 'ro-gateway.yaml'),
      modelsDir: fs.modelsDir,
      port: await freePort(),
    };
    const first = await startGatewayProcess(options);
    const node = await generateNodeKeyPair();
    const before = [
      await post(`${first.url}/v1/nodes/register`, await registration(node, NODE_PLACES[0]!)),
      await post(`${first.url}/v1/keys`, { name: 'kept' }, true),
    ];
    expect(before.map((r) => r.status)).toEqual([200, 201]);
    await first.stop();

    remount(mount, 'ro');
    const refused = (await startGatewayProcess(options).catch((e: unknown) => e)) as {
      code?: number;
      lines?: string[];
    };
    const message = refused.lines?.find((l) => l.startsWith('hexedge:')) ?? '';
    remount(mount, 'rw');
    const fixedAtMs = Date.now();
    const again = await startGatewayProcess(options);
    procs.push(again);
    const restoredMs = Date.now() - fixedAtMs;
    const kept = await fetch(`${again.url}/v1/nodes/${node.nodeId}`);
    await again.stop();
    procs.pop();
    const checks = ['placement.sqlite', 'keys.sqlite'].map((f) => integrity(path.join(options.dataDir, f)));

    recordScenario({
      scenario: 'read-only data dir',
      sent: 3,
      answered: 2,
      // Clear = names the cause (read-only) or the file; "unable to open database file" does neither.
      failedClearly: refused.code === 1 && /read-only|EROFS|readonly|\.sqlite/i.test(message) ? 1 : 0,
      lost: kept.status === 200 ? 0 : 1,
      duplicates: 0,
      recoveryMs: restoredMs,
      recovery: 'remount rw → gateway ready again with its state',
      notes: [
        `start on the read-only dir: exit ${refused.code}, "${message.slice(0, 160)}"${/read-only|EROFS|readonly|\.sqlite/i.test(message) ? '' : ' (refused, but names neither the file nor the cause: not counted as clear)'}`,
        `integrity_check: ${checks.join(', ')}`,
      ],
    });
    // Refused, naming the file it could not open and the likely causes.
    expect(refused.code).toBe(1);
    expect(message).toMatch(/^hexedge: cannot open \S+\.sqlite: .*writable/);
    expect(kept.status).toBe(200);
    expect(checks).toEqual(['ok', 'ok']);
  });

  it('refuses writes on a full disk with a clear error, keeps serving reads, and resumes writes once space is freed', async (ctx) => {
    if (!mountable.ok) {
      recordScenario({
        scenario: 'disk full mid-run',
        sent: 0,
        answered: 0,
        failedClearly: 0,
        lost: 0,
        duplicates: 0,
        recoveryMs: null,
        recovery: 'not run',
        notes: [`cannot mount a tmpfs here: ${mountable.why}`],
      });
      return ctx.skip();
    }
    const mount = path.join(fs.dir, 'full');
    mountTmpfs(mount, { sizeBytes: 4 * 2 ** 20 });
    mounts.push(mount);
    const options: GatewayOptions = {
      dataDir: path.join(mount, 'gateway'),
      configFile: path.join(fs.dir, 'full-gateway.yaml'),
      modelsDir: fs.modelsDir,
      port: await freePort(),
    };
    const gateway = await startGatewayProcess(options);
    procs.push(gateway);
    const kept = await generateNodeKeyPair();
    expect(
      (await post(`${gateway.url}/v1/nodes/register`, await registration(kept, NODE_PLACES[0]!))).status,
    ).toBe(200);

    // Fill the disk: 64 KiB at a time until ENOSPC (bounded by the mount's size).
    const filler = path.join(mount, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (let i = 0; i < 128; i++) writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }

    const refusedNodes = await Promise.all([1, 2, 3].map(async () => generateNodeKeyPair()));
    const writes = [
      ...(await Promise.all(
        refusedNodes.map(async (n, i) =>
          post(`${gateway.url}/v1/nodes/register`, await registration(n, NODE_PLACES[i + 1]!)),
        ),
      )),
      await post(`${gateway.url}/v1/keys`, { name: 'no room' }, true),
    ];
    const reads = [
      await fetch(`${gateway.url}/v1/nodes/${kept.nodeId}`),
      await fetch(`${gateway.url}/healthz`),
    ].map((r) => r.status);
    const logged = gateway.lines.filter((l) => /disk is full|SQLITE_FULL|ENOSPC/i.test(l));
    // Clear = the answer names the cause, or carries a request id whose gateway log line names it.
    const namesCause = (w: WriteResult) =>
      /full|space|SQLITE_FULL|ENOSPC/i.test(w.message ?? '') ||
      (w.requestId !== undefined && logged.some((l) => l.includes(w.requestId!)));
    const clear = writes.filter((w) => w.status >= 400 && w.code && namesCause(w));

    rmSync(filler);
    const freedAtMs = Date.now();
    const late = refusedNodes[0]!;
    await waitUntil(
      'a write to succeed once space is freed',
      async () =>
        (await post(`${gateway.url}/v1/nodes/register`, await registration(late, NODE_PLACES[1]!))).status ===
        200,
      { timeoutMs: 5_000 },
    );
    const recoveryMs = Date.now() - freedAtMs;
    await gateway.kill();
    procs.pop();
    const restarted = await startGatewayProcess(options);
    procs.push(restarted);
    const after = await Promise.all(
      [kept, ...refusedNodes].map(async (n) => (await fetch(`${restarted.url}/v1/nodes/${n.nodeId}`)).status),
    );
    await restarted.stop();
    procs.pop();
    const checks = ['placement.sqlite', 'keys.sqlite'].map((f) => integrity(path.join(options.dataDir, f)));

    recordScenario({
      scenario: 'disk full mid-run',
      sent: writes.length + reads.length,
      answered: reads.filter((s) => s === 200).length,
      failedClearly: clear.length,
      lost: after[0] === 200 && after[1] === 200 ? 0 : 1,
      duplicates: 0,
      recoveryMs,
      recovery: 'space freed → next write (a registration) succeeds',
      notes: [
        `writes on the full disk: ${writes.map((w) => `${w.status} ${w.code ?? ''} "${(w.message ?? '').slice(0, 90)}"`).join(' | ')}`,
        `the gateway's log: ${logged.length ? logged[0]!.slice(0, 160) : 'no line'}`,
        `after SIGKILL + restart: registrations kept/late/refused = ${after.join('/')} (200 = present, 404 = absent); integrity_check: ${checks.join(', ')}`,
      ],
    });
    expect(clear.length).toBe(writes.length);
    // 503 STORAGE_UNAVAILABLE naming the cause, to the client itself (not only in the log).
    expect(writes.map((w) => [w.status, w.code])).toEqual(writes.map(() => [503, 'STORAGE_UNAVAILABLE']));
    expect(writes.every((w) => /full/i.test(w.message ?? ''))).toBe(true);
    expect(reads).toEqual([200, 200]);
    expect(after[0]).toBe(200);
    expect(after[1]).toBe(200);
    // Refused registrations were not half-applied: absent after the restart.
    expect(after.slice(2)).toEqual([404, 404]);
    expect(checks).toEqual(['ok', 'ok']);
  });
});
