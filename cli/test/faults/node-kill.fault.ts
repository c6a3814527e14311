import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getNode,
  HEARTBEAT_INTERVAL_MS,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
  type NodeHandle,
} from './fabric.ts';
import { isClearError, runHttpLoad, type HttpOutcome } from './http-load.ts';
import { freePort, sleep, type Proc } from '@hexedge/test-kit';
import { recordScenario } from './report.ts';

/**
 * An edge node is SIGKILLed under load. Promised: every request still succeeds within its deadline
 * (the gateway fails over to the next node on the failover list) and placement marks the dead node
 * unhealthy within 3 heartbeat intervals of its last heartbeat (so within 3 intervals of the kill).
 */
const DEADLINE_MS = 3_000;
/** The dead node's status is polled this often. */
const POLL_MS = 25;
const procs: Proc[] = [];
let fs: Awaited<ReturnType<typeof scratch>>;
let gatewayUrl: string;
let nodes: NodeHandle[];

beforeAll(async () => {
  fs = await scratch('node-kill');
  const gateway = await startGatewayProcess({
    dataDir: path.join(fs.dir, 'gateway'),
    modelsDir: fs.modelsDir,
    port: await freePort(),
  });
  procs.push(gateway);
  gatewayUrl = gateway.url;
  nodes = [];
  for (const [i, place] of NODE_PLACES.slice(0, 3).entries()) {
    const node = await startNodeProcess({
      dir: fs.dir,
      name: `n${i}`,
      gatewayUrl,
      modelsDir: fs.modelsDir,
      place,
    });
    procs.push(node);
    nodes.push(node);
  }
});

afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  await fs?.cleanup();
});

describe('fault: an edge node SIGKILLed under load', () => {
  it('fails in-flight requests over within their deadline and marks the node unhealthy within 3 heartbeat intervals', async () => {
    let killAtMs = 0;
    let victim: NodeHandle | undefined;
    let unhealthyAtMs = 0;
    /** When the last poll that still got 'healthy' was sent: under load the answer may come late, the question may not. */
    let lastHealthyAskedAtMs = 0;
    let watching: Promise<void> | undefined;
    const outcomes = await runHttpLoad({
      gatewayUrl,
      concurrency: 4,
      totalRequests: 400,
      maxDurationMs: 15_000,
      deadlineMs: DEADLINE_MS,
      onProgress: (done: HttpOutcome[]) => {
        if (victim || done.length < 80) return;
        // Kill the node that has served the most: the one placement is sending traffic to now.
        const served = new Map<string, number>();
        for (const o of done.slice(-40)) if (o.nodeId) served.set(o.nodeId, (served.get(o.nodeId) ?? 0) + 1);
        const busiest = [...served.entries()].sort((a, b) => b[1] - a[1])[0]![0];
        victim = nodes.find((n) => n.nodeId === busiest)!;
        killAtMs = Date.now();
        void victim.kill();
        watching = (async () => {
          for (let i = 0; i < 400 && !unhealthyAtMs; i++) {
            const askedAtMs = Date.now();
            const status = (await getNode(gatewayUrl, victim!.nodeId))?.status;
            if (status === 'unhealthy') unhealthyAtMs = Date.now();
            else {
              if (status === 'healthy') lastHealthyAskedAtMs = askedAtMs;
              await sleep(POLL_MS);
            }
          }
        })();
      },
    });
    await watching;
    expect(victim, 'the victim was killed mid-run').toBeDefined();

    const inFlightAtKill = outcomes.filter(
      (o) => o.startedAtMs <= killAtMs && o.startedAtMs + o.latencyMs >= killAtMs,
    );
    const afterKill = outcomes.filter((o) => o.startedAtMs >= killAtMs);
    const ok = outcomes.filter((o) => o.status === 200);
    const late = ok.filter((o) => o.latencyMs > DEADLINE_MS);
    const unhealthyAfterMs = unhealthyAtMs ? unhealthyAtMs - killAtMs : null;
    recordScenario({
      scenario: 'edge node SIGKILL under load',
      sent: outcomes.length,
      answered: ok.length,
      failedClearly: outcomes.filter(isClearError).length,
      lost: outcomes.length - ok.length - outcomes.filter(isClearError).length,
      duplicates: 0,
      recoveryMs: unhealthyAfterMs,
      recovery: `kill → node listed unhealthy by placement (bound: 3 × ${HEARTBEAT_INTERVAL_MS} ms heartbeat = ${3 * HEARTBEAT_INTERVAL_MS} ms)`,
      notes: [
        `${inFlightAtKill.length} requests in flight at the kill, ${afterKill.length} sent after it`,
        `max latency ${Math.round(Math.max(...outcomes.map((o) => o.latencyMs)))} ms (deadline ${DEADLINE_MS} ms)`,
        `${afterKill.filter((o) => o.nodeId === victim!.nodeId).length} answers credited to the dead node after the kill; last poll still answered 'healthy' was sent ${lastHealthyAskedAtMs - killAtMs} ms after the kill`,
      ],
    });

    expect(
      outcomes.filter((o) => o.status !== 200),
      'every request answered 200',
    ).toEqual([]);
    expect(late, 'every answer within its deadline').toEqual([]);
    expect(inFlightAtKill.length).toBeGreaterThan(0);
    expect(afterKill.some((o) => o.nodeId === victim!.nodeId)).toBe(false);
    expect(unhealthyAfterMs).not.toBeNull();
    // Never still 'healthy' when asked more than 3 intervals after the kill (the observed flip itself
    // lags by a poll and a round trip through a gateway under load, so it gets a looser bound).
    expect(lastHealthyAskedAtMs - killAtMs).toBeLessThanOrEqual(3 * HEARTBEAT_INTERVAL_MS);
    expect(unhealthyAfterMs!).toBeLessThanOrEqual(3 * HEARTBEAT_INTERVAL_MS + 500);
  });
});
