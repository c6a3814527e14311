/**
 * Whole runs with many failing nodes: the walk that meets them is the gateway's own (walkFailoverList
 * on the simulated clock), so what the rows say about failover is what the gateway would do.
 */
import { ATTEMPT_TIMEOUT_FLOOR_MS, DEFAULT_DEADLINE_MS } from '@hexedge/gateway';
import { describe, expect, it } from 'vitest';
import { simulate, simulationRows, type SimulationOptions } from '../src/index.ts';

// Nodes fail often and come back soon, and heartbeats are sparse (a node is marked unhealthy 3 minutes
// after its last one), so walks meet nodes that are down but still listed.
const FLAKY: SimulationOptions = {
  nodes: 300,
  hours: 1,
  seed: 3,
  sampledRequests: 3_000,
  heartbeatIntervalMs: 60_000,
  failureShare: 0.3,
  meanDownMs: 10 * 60_000,
};

// Each run takes a few seconds (city table, 300 key pairs and signed registrations, an hour of events).
describe('failover in the simulation', { timeout: 60_000 }, () => {
  it('reports a non-zero, plausible failover share on silent hosts, the attempt timeout moving requests on', async () => {
    const r = await simulate({ ...FLAKY, blackholeShare: 1 });
    const silent = r.metrics.failover.blackholed;
    expect(silent.hit).toBeGreaterThan(50);
    // Most are saved: a silent first choice is cut at its attempt timeout and the next node answers.
    expect(silent.served / silent.hit).toBeGreaterThan(0.8);
    expect(silent.served).toBeLessThanOrEqual(silent.hit);
    const lost = silent.lostMs.sorted();
    const lostHedged = silent.lostHedgedMs.sorted();
    expect(lost.length + lostHedged.length).toBe(silent.served);
    // Without hedging, a request loses a whole attempt timeout: at least the gateway's floor, at most
    // half the deadline (no history) or two timeouts in a row; never past the deadline. (A silent node
    // met by a copy while the first attempt answers costs nothing.)
    expect(lost[lost.length - 1]!).toBeLessThanOrEqual(DEFAULT_DEADLINE_MS);
    expect(
      lost.filter((ms) => ms >= ATTEMPT_TIMEOUT_FLOOR_MS && ms <= DEFAULT_DEADLINE_MS / 2).length /
        lost.length,
    ).toBeGreaterThan(0.8);
    // A hedged request's copy goes out after the node's p95 (50 ms without history): far less is lost.
    expect(lostHedged.length).toBeGreaterThan(5);
    expect(lostHedged[Math.floor(lostHedged.length / 2)]!).toBeLessThan(ATTEMPT_TIMEOUT_FLOOR_MS);
    // No crashed nodes in this run: nothing may be counted there.
    expect(r.metrics.failover.crashed.hit).toBe(0);
    const row = simulationRows(r).find((x) =>
      x.name.startsWith('served within the deadline after the walk hit a silent'),
    )!;
    expect(row.value).toBeCloseTo((100 * silent.served) / silent.hit, 6);
    expect(row.anchorValue).toBe(silent.hit);
  });

  it('fails over from crashed nodes within a round trip, and repeats a run exactly with the same seed', async () => {
    const a = await simulate({ ...FLAKY, blackholeShare: 0 });
    const crashed = a.metrics.failover.crashed;
    expect(crashed.hit).toBeGreaterThan(50);
    expect(crashed.served / crashed.hit).toBeGreaterThan(0.95);
    // A refused connection costs one round trip, not a timeout.
    const lost = crashed.lostMs.sorted();
    expect(lost[Math.floor(lost.length / 2)]!).toBeLessThan(200);
    expect(a.metrics.failover.blackholed.hit).toBe(0);

    const b = await simulate({ ...FLAKY, blackholeShare: 0 });
    const figures = (r: typeof a) => simulationRows(r).filter((x) => !/wall clock/.test(x.name));
    expect(figures(b)).toEqual(figures(a));
    expect(b.metrics.attempts).toBe(a.metrics.attempts);
  });
});
