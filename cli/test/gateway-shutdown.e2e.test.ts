import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil, type Proc } from '@hexedge/test-kit';
import {
  ADMIN_KEY,
  getNode,
  HERE,
  scratch,
  startGatewayProcess,
  type GatewayOptions,
} from './faults/fabric.ts';
import { startOracleGatewayNode } from './faults/oracle-fabric.ts';
import { exitWithin, inferSome, storedReceiptRequestIds } from './shutdown-helpers.ts';

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
  ({ fs, oracle, oracleDir, gatewayOptions, gateway, node } = await startOracleGatewayNode({
    name: 'gateway-shutdown',
  }));
  // The oracle takes the gateway's reports once it has read its report key (GET /v1/gateway/identity):
  // the first stored receipt is the marker that it has.
  await waitUntil(
    'a first receipt report stored by the oracle',
    async () => {
      await inferSomeAt(1);
      return storedReceipts().size > 0;
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

/** `count` inferences through the gateway, each with other readings; their request ids. */
function inferSomeAt(count: number): Promise<string[]> {
  return inferSome({
    gatewayUrl: gateway.url,
    apiKey: ADMIN_KEY,
    count,
    location: HERE,
    firstReadings: [18, 35, 500],
  });
}

/** The receipt reports' request ids in the oracle's store (its SQLite file, read-only, beside the running oracle). */
const storedReceipts = () => storedReceiptRequestIds(path.join(oracleDir, 'oracle.sqlite'));

function stopGateway(): Promise<number | string> {
  gateway.child.kill('SIGTERM');
  return exitWithin(gateway, { deadlineMs: EXIT_DEADLINE_MS, what: 'hexedge gateway' });
}

describe('stopping hexedge gateway', () => {
  it('posts its last receipt reports to the running oracle before it exits', async () => {
    const requestIds = await inferSomeAt(INFERENCES);
    expect(await stopGateway()).toBe(0);
    const stored = storedReceipts();
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
    const requestIds = await inferSomeAt(INFERENCES);
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
