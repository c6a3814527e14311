import { NodeFault } from '@hexedge/gateway';
import { describe, expect, it } from 'vitest';
import { attemptNode, type AttemptWorld } from './attempts.ts';
import { EventQueue } from './event-queue.ts';
import type { SimNode } from './nodes.ts';
import { createRng } from './random.ts';
import { SimClock, settle, type TimerEvent } from './sim-clock.ts';
import { CONNECT_TIMEOUT_MS, MODELS } from './world.ts';

function world(latencyMs: number) {
  let nowMs = 0;
  const queue = new EventQueue<TimerEvent>();
  const clock = new SimClock({ now: () => nowMs, schedule: (t) => queue.push(t) });
  const w: AttemptWorld = {
    clock,
    rand: createRng(7),
    latencyOf: () => latencyMs,
    serviceMs: () => Math.min(latencyMs, 10),
  };
  /** Runs the queue to its end; returns when the last timer fired. */
  const run = async () => {
    for (let ev = queue.pop(); ev; ev = queue.pop()) {
      if (ev.cancelled) continue;
      nowMs = ev.atMs;
      ev.fire();
      await settle();
    }
    return nowMs;
  };
  return { w, run };
}

const node = (state: SimNode['state']) => ({ id: `n-${state}`, state }) as SimNode;
const model = MODELS[0]!;

describe('a simulated node answering one attempt', () => {
  it('an up node answers after its round trip, queue wait and service time', async () => {
    const { w, run } = world(30);
    const { attempt, answer } = attemptNode(w, {
      node: node('up'),
      model,
      distanceKm: 500,
      signal: new AbortController().signal,
    });
    expect(attempt.kind).toBe('answered');
    const endMs = await run();
    expect(await answer).toBe(attempt);
    // Round trip (≥ last mile + fibre) plus 20 ms of queue and a log-normal draw around 10 ms of service.
    expect(endMs).toBeGreaterThan(attempt.rttMs + 20);
    expect(endMs).toBeLessThan(attempt.rttMs + 20 + 60);
  });

  it('a crashed node refuses and a saturated one answers 503 after one round trip: node faults', async () => {
    for (const [state, latencyMs, kind, message] of [
      ['crashed', 30, 'crashed', /was unreachable/],
      ['left', 30, 'crashed', /was unreachable/],
      ['up', Infinity, 'overloaded', /failed \(HTTP 503\)/],
    ] as const) {
      const { w, run } = world(latencyMs);
      const { attempt, answer } = attemptNode(w, {
        node: node(state),
        model,
        distanceKm: 100,
        signal: new AbortController().signal,
      });
      const failed = expect(answer).rejects.toThrow(message);
      expect(attempt.kind).toBe(kind);
      expect(await run()).toBe(attempt.rttMs);
      await failed;
      await expect(answer).rejects.toBeInstanceOf(NodeFault);
    }
  });

  it('a silent node says nothing until the connect timeout, unless the walk aborts the attempt first', async () => {
    const { w, run } = world(30);
    const { attempt, answer } = attemptNode(w, {
      node: node('blackholed'),
      model,
      distanceKm: 100,
      signal: new AbortController().signal,
    });
    const failed = expect(answer).rejects.toThrow(/did not answer in time/);
    expect(attempt.kind).toBe('blackholed');
    expect(await run()).toBe(CONNECT_TIMEOUT_MS);
    await failed;

    const second = world(30);
    const controller = new AbortController();
    const cut = attemptNode(second.w, {
      node: node('blackholed'),
      model,
      distanceKm: 100,
      signal: controller.signal,
    });
    const reason = new NodeFault({ nodeId: 'silent', kind: 'timeout' });
    second.w.clock.setTimeout(() => controller.abort(reason), 1_000);
    const aborted = expect(cut.answer).rejects.toBe(reason);
    // The connect-timeout timer is cancelled with the abort: the run ends at the abort.
    expect(await second.run()).toBe(1_000);
    await aborted;
  });
});
