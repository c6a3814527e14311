import { describe, expect, it } from 'vitest';
import { EventBus } from './event-bus.ts';
import { formatSseEvent } from './sse.ts';

describe('EventBus', () => {
  it('delivers to matching subscribers only, keeps recent events per audience, and survives a throwing listener', () => {
    const bus = new EventBus({ retainPerAudience: 2, now: () => 1000 });
    const mine: number[] = [];
    bus.subscribe(
      () => true,
      () => {
        throw new Error('closed stream');
      },
    );
    const stop = bus.subscribe(
      (e) => e.audience.kind === 'key' && e.audience.keyId === 'k1',
      (e) => mine.push(e.id),
    );
    bus.publish({ type: 'request', audience: { kind: 'key', keyId: 'k1' }, data: {} });
    bus.publish({ type: 'request', audience: { kind: 'key', keyId: 'k2' }, data: {} });
    for (let i = 0; i < 3; i++)
      bus.publish({ type: 'node.heartbeat', audience: { kind: 'public' }, data: { i } });
    stop();
    bus.publish({ type: 'request', audience: { kind: 'key', keyId: 'k1' }, data: {} });
    expect(mine).toEqual([1]);
    // Public heartbeats did not push k1's events out: retention is per audience.
    expect(
      bus.recent((e) => e.audience.kind === 'key' && e.audience.keyId === 'k1').map((e) => e.id),
    ).toEqual([1, 6]);
    expect(bus.recent((e) => e.audience.kind === 'public').map((e) => (e.data as { i: number }).i)).toEqual([
      1, 2,
    ]);
  });

  it('keeps exactly the newest events of an audience however many were published', () => {
    const bus = new EventBus({ retainPerAudience: 3 });
    for (let i = 0; i < 50; i++)
      bus.publish({ type: 'node.heartbeat', audience: { kind: 'public' }, data: { i } });
    expect(bus.recent(() => true).map((e) => (e.data as { i: number }).i)).toEqual([47, 48, 49]);
    expect(bus.recent(() => true, 2).map((e) => (e.data as { i: number }).i)).toEqual([48, 49]);
  });

  it('formats an event as one SSE record with its id and type', () => {
    const text = formatSseEvent({
      id: 7,
      type: 'fleet.result',
      atMs: 5,
      audience: { kind: 'public' },
      data: { a: 'x\ny' },
    });
    expect(text).toBe(
      'id: 7\nevent: fleet.result\ndata: {"id":7,"type":"fleet.result","atMs":5,"data":{"a":"x\\ny"}}\n\n',
    );
  });
});
