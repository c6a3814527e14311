import { describe, expect, it } from 'vitest';
import type { EventBus } from '../events/event-bus.ts';
import type { RequestLog, RequestObservation } from '../events/request-log.ts';
import type { ApiKeyRecord } from '../keys/key-store.ts';
import { inferRecorder } from './dashboard-keys.ts';

/*
 * The dashboards' infer observer builds its record and the key's event field by field: the same
 * fields, in the same order (the JSON the dashboards read), as the record it always made.
 */
type Answer = Parameters<ReturnType<typeof inferRecorder>>[0]['answer'];

/** The record as it was made before (spreads), and the key's event as the record less keyId and location. */
function expectedOf(o: {
  body: unknown;
  answer: Answer;
  ok: boolean;
  hit: boolean;
  region?: string;
  location?: unknown;
}) {
  const served = o.hit ? undefined : o.answer;
  const obs = {
    atMs: 5,
    keyId: 'k1',
    model:
      typeof (o.body as { model?: unknown })?.model === 'string'
        ? (o.body as { model: string }).model
        : 'unknown',
    ok: o.ok,
    ...(o.ok ? {} : { code: o.answer?.error?.code ?? 'INTERNAL' }),
    totalMs: o.answer?.timing?.totalMs,
    ...(served?.receipt?.body?.serviceTimeMs !== undefined
      ? { serviceMs: served.receipt.body.serviceTimeMs }
      : {}),
    ...(o.location ? { location: o.location } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(served?.node?.id ? { nodeId: served.node.id } : {}),
  };
  const { keyId: _k, location: _l, ...shown } = obs;
  return { obs, shown };
}

describe('inferRecorder', () => {
  it('records and publishes the same fields in the same order as before', () => {
    const records: RequestObservation[] = [];
    const events: { audience: { kind: string }; data: unknown }[] = [];
    const record = inferRecorder({
      requests: { record: (obs: RequestObservation) => records.push(obs) } as unknown as RequestLog,
      events: { publish: (e: (typeof events)[number]) => events.push(e) } as unknown as EventBus,
      now: () => 5,
    });
    const key = { id: 'k1' } as ApiKeyRecord;
    const answer = {
      node: { id: 'node-1' },
      timing: { totalMs: 1.25 },
      receipt: { body: { serviceTimeMs: 0.5 } },
    };
    const atSea = { lat: 0.5, lng: -30 };
    const cases = [
      { body: { model: 'm', location: atSea }, answer, status: 200, cacheStatus: null },
      { body: { model: 'm', location: atSea }, answer, status: 200, cacheStatus: 'hit' },
      {
        body: { model: 'm' },
        answer: { timing: { totalMs: 2 }, error: { code: 'NODE_FAILED' } },
        status: 502,
        cacheStatus: null,
      },
      { body: { location: atSea }, answer: { timing: { totalMs: 3 } }, status: 500, cacheStatus: null },
      {
        body: null,
        answer: { timing: { totalMs: 4 }, node: { id: '' }, receipt: { body: { serviceTimeMs: 0 } } },
        status: 200,
        cacheStatus: null,
      },
    ];
    for (const c of cases) {
      records.length = 0;
      events.length = 0;
      record({
        key,
        body: c.body,
        answer: c.answer,
        status: c.status,
        cacheStatus: c.cacheStatus,
        startedMs: 0,
      });
      const region = records[0]!.region;
      const { obs, shown } = expectedOf({
        body: c.body,
        answer: c.answer,
        ok: c.status < 400,
        hit: c.cacheStatus === 'hit',
        ...(region ? { region } : {}),
        ...((c.body as { location?: unknown } | null)?.location ? { location: atSea } : {}),
      });
      expect(JSON.stringify(records[0])).toBe(JSON.stringify(obs));
      expect(JSON.stringify(events[0]!.data)).toBe(JSON.stringify(shown));
      expect(events.map((e) => e.audience.kind)).toEqual(['key', 'public']);
    }
  });
});
