import type { InferResponse } from '@hexedge/protocol';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitUntil, type Proc } from '@hexedge/test-kit';
import {
  ADMIN_KEY,
  HERE,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
  type GatewayOptions,
} from './faults/fabric.ts';
import { startOracleGatewayNode } from './faults/oracle-fabric.ts';
import { storedReceiptRequestIds } from './shutdown-helpers.ts';

/**
 * Separately deployed `hexedge oracle` and `hexedge gateway` (each from its config file, as in
 * production): the oracle starts first and learns of the gateway only later, so the gateway's first
 * receipt reports come from a reporter it does not know yet. None of them may be lost: every answered
 * request's receipt reaches the oracle's store. The oracle's periodic directory refresh is set to a
 * minute, and its list names a gateway that is down ahead of the live one, so only learning on demand
 * (a report from an unknown reporter) and the forwarder keeping "not known yet" reports can pass.
 */
const CONCURRENT = 8;
/** Far past the test: the periodic refresh cannot be what makes the oracle learn the gateway. */
const DIRECTORY_REFRESH_MS = 60_000;
/** The forwarder's interval (1 s), an on-demand refresh, a retry or two: seconds; generous for a busy 2-core machine. */
const STORED_WITHIN_MS = 30_000;

let fs: Awaited<ReturnType<typeof scratch>>;
let oracle: Proc & { url: string };
let oracleDir: string;
let gatewayOptions: GatewayOptions;
let gateway: Proc & { url: string };
let node: Proc & { nodeId: string };

beforeAll(async () => {
  ({ fs, oracle, oracleDir, gatewayOptions, gateway, node } = await startOracleGatewayNode({
    name: 'late-reporter',
    // A configured gateway that never comes up (nothing listens on its port), listed first.
    moreGatewayUrls: [`http://127.0.0.1:${await freePort()}`],
    directoryRefreshMs: DIRECTORY_REFRESH_MS,
  }));
}, 180_000);

afterAll(async () => {
  for (const proc of [node, gateway, oracle]) await proc?.stop();
  await fs?.cleanup();
});

/** `count` inferences sent at once (their reports share the forwarder's first posts); their request ids. */
async function inferAtOnce(count: number, salt: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await postInfer(i, salt);
      const body = (await res.json()) as InferResponse;
      expect(res.status, JSON.stringify(body)).toBe(200);
      return body.id;
    }),
  );
}

function postInfer(i: number, salt: number): Promise<Response> {
  return fetch(`${gateway.url}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'comfort-index',
      location: HERE,
      inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [[18 + i, 35 + salt, 500 + i]] }],
    }),
  });
}

async function expectAllStored(requestIds: string[]): Promise<void> {
  await waitUntil(
    `all ${requestIds.length} receipts in the oracle's store`,
    () => {
      const stored = storedReceiptRequestIds(path.join(oracleDir, 'oracle.sqlite'));
      return requestIds.every((id) => stored.has(id));
    },
    { timeoutMs: STORED_WITHIN_MS, intervalMs: 250 },
  );
  // Nothing was given up on the way (a final refusal would be said in the gateway's log).
  expect(gateway.lines.filter((l) => /the oracle refused|gave up/.test(l))).toEqual([]);
}

describe('a gateway the oracle learns of only after it started', () => {
  it("its first receipts (sent at once) all reach the oracle's store", async () => {
    const requestIds = await inferAtOnce(CONCURRENT, 0);
    await expectAllStored(requestIds);
  }, 60_000);

  it("after it restarts with a new report key, its first receipts all reach the oracle's store", async () => {
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    // A new report key: the oracle knows only the old one until it reads the gateway's identity again.
    await rm(path.join(gatewayOptions.dataDir, 'report-key.json'));
    gateway = await startGatewayProcess(gatewayOptions);
    expect(gateway.lines.some((l) => /gateway report key \S+ created/.test(l))).toBe(true);
    // The node too (it serves forwards signed by the gateway's key, which it reads when it starts).
    await node.stop();
    node = await startNodeProcess({
      dir: fs.dir,
      name: 'n0',
      gatewayUrl: gateway.url,
      modelsDir: fs.modelsDir,
      place: NODE_PLACES[0]!,
    });
    const requestIds = await inferAtOnce(CONCURRENT, 2);
    await expectAllStored(requestIds);
  }, 90_000);
});
