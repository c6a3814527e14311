import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_PLACES, scratch, startGatewayProcess, startNodeProcess, type NodeHandle } from './fabric.ts';
import { startDelayProxy } from './delay-proxy.ts';
import { isClearError, runHttpLoad } from './http-load.ts';
import { freePort, type Proc } from '@hexedge/test-kit';
import { recordScenario } from './report.ts';

/**
 * The nearest node turns slow: it sits behind a proxy that adds `INJECTED_LATENCY_MS` to every call
 * (the node registered the proxy's URL as its publicUrl). Promised: requests keep succeeding within
 * their deadline, and placement's latency tracking (peak EWMA) moves traffic to the other nodes.
 */
const INJECTED_LATENCY_MS = 300;
const DEADLINE_MS = 3_000;
const procs: Proc[] = [];
let proxy: Awaited<ReturnType<typeof startDelayProxy>>;
let fs: Awaited<ReturnType<typeof scratch>>;
let gatewayUrl: string;
let slow: NodeHandle;

beforeAll(async () => {
  fs = await scratch('slow-node');
  const gateway = await startGatewayProcess({
    dataDir: path.join(fs.dir, 'gateway'),
    modelsDir: fs.modelsDir,
    port: await freePort(),
  });
  procs.push(gateway);
  gatewayUrl = gateway.url;
  const [nodePort, proxyPort] = [await freePort(), await freePort()];
  proxy = await startDelayProxy({
    port: proxyPort,
    target: `http://127.0.0.1:${nodePort}`,
    delayMs: INJECTED_LATENCY_MS,
  });
  // The slow node is the nearest one: without latency tracking it would get the traffic.
  slow = await startNodeProcess({
    dir: fs.dir,
    name: 'slow',
    gatewayUrl,
    modelsDir: fs.modelsDir,
    place: NODE_PLACES[0]!,
    port: nodePort,
    publicUrl: proxy.url,
  });
  procs.push(slow);
  for (const [i, place] of NODE_PLACES.slice(1, 3).entries())
    procs.push(
      await startNodeProcess({ dir: fs.dir, name: `n${i}`, gatewayUrl, modelsDir: fs.modelsDir, place }),
    );
});

afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  await proxy?.close();
  await fs?.cleanup();
});

describe('fault: a slow node (injected latency)', () => {
  it('keeps answering within the deadline and moves traffic away from the slow node', async () => {
    const t0 = Date.now();
    const outcomes = await runHttpLoad({
      gatewayUrl,
      concurrency: 2,
      totalRequests: 200,
      maxDurationMs: 20_000,
      deadlineMs: DEADLINE_MS,
    });
    const ok = outcomes.filter((o) => o.status === 200);
    const bySlow = outcomes.map((o) => o.nodeId === slow.nodeId);
    const firstFast = outcomes.findIndex((o) => o.nodeId !== undefined && o.nodeId !== slow.nodeId);
    const lastHalf = bySlow.slice(outcomes.length / 2);
    const slowShareLastHalf = lastHalf.filter(Boolean).length / lastHalf.length;
    const sorted = ok.map((o) => o.latencyMs).sort((a, b) => a - b);
    recordScenario({
      scenario: `slow node (+${INJECTED_LATENCY_MS} ms)`,
      sent: outcomes.length,
      answered: ok.length,
      failedClearly: outcomes.filter(isClearError).length,
      lost: outcomes.length - ok.length - outcomes.filter(isClearError).length,
      duplicates: 0,
      recoveryMs: firstFast >= 0 ? outcomes[firstFast]!.startedAtMs - t0 : null,
      recovery: 'load start → first request placed on a fast node',
      notes: [
        `slow node served ${bySlow.filter(Boolean).length} of ${outcomes.length} (${(slowShareLastHalf * 100).toFixed(1)} % of the second half); calls through its delaying proxy: ${proxy.proxied()}`,
        `latency p50 ${Math.round(sorted[Math.floor(sorted.length * 0.5)]!)} ms, p99 ${Math.round(sorted[Math.floor(sorted.length * 0.99)]!)} ms`,
      ],
    });
    expect(ok.length).toBe(outcomes.length);
    expect(ok.every((o) => o.latencyMs <= DEADLINE_MS)).toBe(true);
    expect(slowShareLastHalf).toBeLessThan(0.1);
  });
});
