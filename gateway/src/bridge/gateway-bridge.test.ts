import { chirpstackUplinkJson, DeviceRegistry, encodeLpp, type MessageOutcome } from '@hexedge/firmware-bridge';
import { describe, expect, it } from 'vitest';
import { EventBus, type GatewayEvent } from '../events/event-bus.ts';
import { RateLimiter } from '../keys/rate-limit.ts';
import { BRIDGE_CALLER, createGatewayBridge } from './gateway-bridge.ts';

const APP = 'a0000000-0000-4000-8000-000000000001';
const ROOM = '0004a30b001c0530';

function setup(budget?: { ratePerSecond: number; burst: number; dailyQuota: number }) {
  const registry = new DeviceRegistry();
  registry.loadFleet({
    profiles: [
      {
        id: 'room',
        codec: { kind: 'lpp' },
        model: 'comfort-index',
        input: { kind: 'tensor', name: 'readings', fields: [{ path: 'temperature_1' }, { path: 'relative_humidity_2' }, { path: 'concentration_3' }] },
        output: { labels: ['comfortable', 'too_warm', 'stuffy'] },
        downlink: { fPort: 10, encoding: { kind: 'class-index' } },
        location: { fixed: { lat: 52.37, lng: 4.9 } },
      },
    ],
    devices: [{ devEui: ROOM, fleet: 'acme', profile: 'room' }],
  });
  const callers: string[] = [];
  const service = {
    infer: async (body: unknown, caller: { id: string }) => {
      callers.push(caller.id);
      const id = (body as { id: string }).id;
      return { response: { id, outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 3], data: [0.1, 0.8, 0.1] }], node: { id: 'n1' } } as never, replayed: false };
    },
  };
  const events = new EventBus();
  const seen: GatewayEvent[] = [];
  events.subscribe(() => true, (e) => seen.push(e));
  const published: string[] = [];
  const bridge = createGatewayBridge({ registry, service, events, limiter: new RateLimiter(), ...(budget ? { budget } : {}), publish: async (topic) => void published.push(topic) });
  let fCnt = 0;
  const send = (data: Uint8Array): Promise<MessageOutcome> => {
    const event = chirpstackUplinkJson({ deduplicationId: crypto.randomUUID(), timeMs: Date.now(), applicationId: APP, devEui: ROOM, fCnt: fCnt++, fPort: 85, data, dr: 0, regionConfigId: 'eu868', receptions: [] });
    return bridge.handleMessage(`application/${APP}/device/${ROOM}/event/up`, new TextEncoder().encode(JSON.stringify(event)));
  };
  return { send, callers, seen, published };
}

const reading = encodeLpp({ temperature_1: 28, relative_humidity_2: 50, concentration_3: 600 }).data!;

describe('createGatewayBridge', () => {
  it('infers as the bridge caller and shows results and errors on the event bus', async () => {
    const t = setup();
    expect((await t.send(reading)).status).toBe('result');
    expect(t.callers).toEqual([BRIDGE_CALLER.id]);
    expect(t.published).toEqual([`application/${APP}/device/${ROOM}/command/down`, `hexedge/v1/results/acme/${ROOM}`]);
    expect((await t.send(Uint8Array.of(0x01, 0x67))).status).toBe('error');
    expect(t.seen.map((e) => [e.type, e.audience])).toEqual([
      ['fleet.result', { kind: 'fleet', fleet: 'acme' }],
      ['fleet.error', { kind: 'fleet', fleet: 'acme' }],
    ]);
  });

  it('waits out a short rate-limit refusal, and fails the uplink on a long one', async () => {
    const quick = setup({ ratePerSecond: 5, burst: 1, dailyQuota: 100 });
    await quick.send(reading);
    const started = performance.now();
    expect((await quick.send(reading)).status).toBe('result');
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);

    const slow = setup({ ratePerSecond: 0.01, burst: 1, dailyQuota: 100 });
    await slow.send(reading);
    const outcome = await slow.send(reading);
    expect(outcome).toMatchObject({ status: 'error', error: { code: 'INFERENCE_FAILED' } });
    expect(outcome.status === 'error' && outcome.error.message).toMatch(/RATE_LIMITED/);
    expect(slow.callers).toHaveLength(1);
  });
});
