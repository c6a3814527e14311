import type { InferResponse } from '@hexedge/protocol';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitUntil, type Proc } from '@hexedge/test-kit';
import {
  ADMIN_KEY,
  getNode,
  HERE,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
  type GatewayOptions,
} from './faults/fabric.ts';
import { oracleIdentity, startOracleProcess } from './faults/oracle-fabric.ts';

/**
 * `hexedge gateway` on its own (with `hexedge oracle` and `hexedge node run` beside it, each from its
 * config file): its stop posts the last receipt reports to a running oracle before it exits, and when
 * the oracle does not take them (frozen, gone) it gives up at its deadline and says in its log how
 * many reports were not delivered.
 */
const INFERENCES = 6;
/** The forwarder's stop deadline (DEFAULT_FORWARD_STOP_TIMEOUT_MS) and room for the rest of the stop. */
const EXIT_DEADLINE_MS = 60_000;

let fs: Awaited<ReturnType<typeof scratch>>;
let oracle: Proc & { url: string };
let oracleDir: string;
let gatewayOptions: GatewayOptions;
let gateway: Proc & { url: string };
let node: Proc & { nodeId: string };

beforeAll(async () => {
  fs = await scratch('gateway-shutdown');
  oracleDir = path.join(fs.dir, 'oracle');
  const oracleId = await oracleIdentity(oracleDir);
  const [gatewayPort, oraclePort] = [await freePort(), await freePort()];
  oracle = await startOracleProcess({
    dataDir: oracleDir,
    port: oraclePort,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
  });
  gatewayOptions = {
    dataDir: path.join(fs.dir, 'gateway'),
    modelsDir: fs.modelsDir,
    port: gatewayPort,
    oracle: { url: oracle.url, oracleIds: [oracleId] },
  };
  gateway = await startGatewayProcess(gatewayOptions);
  node = await startNodeProcess({
    dir: fs.dir,
    name: 'n0',
    gatewayUrl: gateway.url,
    modelsDir: fs.modelsDir,
    place: NODE_PLACES[0]!,
  });
  // The oracle takes the gateway's reports once it has read its report key (GET /v1/gateway/identity):
  // the first stored receipt is the marker that it has.
  await waitUntil(
    'a first receipt report stored by the oracle',
    async () => {
      await inferSome(1);
      return storedReceiptRequestIds().size > 0;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}, 180_000);

afterAll(async () => {
  // Whatever state a failed test left: the oracle resumed, then each process stopped by its own handle.
  if (oracle?.child.pid && oracle.child.exitCode === null) oracle.child.kill('SIGCONT');
  for (const proc of [node, gateway, oracle]) await proc?.stop();
  await fs?.cleanup();
});

async function inferSome(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${gateway.url}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'comfort-index',
        location: HERE,
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [[18 + i, 35 + i, 500 + i]] }],
      }),
    });
    const body = (await res.json()) as InferResponse;
    expect(res.status, JSON.stringify(body)).toBe(200);
    ids.push(body.id);
  }
  return ids;
}

/** The receipt reports' request ids in the oracle's store (its SQLite file, read-only, beside the running oracle). */
function storedReceiptRequestIds(): Set<string> {
  const db = new DatabaseSync(path.join(oracleDir, 'oracle.sqlite'), { readOnly: true });
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

async function stopGateway(): Promise<number | string> {
  gateway.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      gateway.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`hexedge gateway still running ${EXIT_DEADLINE_MS} ms after SIGTERM`)),
          EXIT_DEADLINE_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('stopping hexedge gateway', () => {
  it('posts its last receipt reports to the running oracle before it exits', async () => {
    const requestIds = await inferSome(INFERENCES);
    expect(await stopGateway()).toBe(0);
    const stored = storedReceiptRequestIds();
    expect(requestIds.filter((id) => !stored.has(id))).toEqual([]);
    expect(gateway.lines.filter((l) => /receipt forwarding|not delivered/.test(l))).toEqual([]);
  }, 120_000);

  it('with the oracle not answering, gives up at its deadline and says how many reports were not delivered', async () => {
    gateway = await startGatewayProcess(gatewayOptions);
    await waitUntil(
      'the node healthy at the restarted gateway',
      async () => {
        return (await getNode(gateway.url, node.nodeId))?.status === 'healthy';
      },
      { timeoutMs: 30_000 },
    );
    // Frozen (SIGSTOP, this test's own process): its socket still takes connections, nothing answers.
    oracle.child.kill('SIGSTOP');
    const requestIds = await inferSome(INFERENCES);
    expect(await stopGateway()).toBe(0);
    oracle.child.kill('SIGCONT');
    // A post in flight when the signal came fails at its own timeout, the rest at the stop's deadline:
    // either way every report of this batch is counted in the stop's line.
    const stopLine = gateway.lines.find((l) => l.startsWith('gateway: receipt forwarding stopped:'));
    expect(stopLine).toMatch(
      new RegExp(
        `^gateway: receipt forwarding stopped: ${requestIds.length} report\\(s\\) not delivered to ${oracle.url} \\((the oracle did not take them within 15000 ms|its posts failed, see above)\\)$`,
      ),
    );
  }, 120_000);
});
