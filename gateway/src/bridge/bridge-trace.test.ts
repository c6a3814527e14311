import { chirpstackUplinkJson, DeviceRegistry, encodeLpp } from '@hexedge/firmware-bridge';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../infer/infer-ports.ts';
import type { InferHints } from '../infer/infer-hints.ts';
import { createGatewayBridge } from './gateway-bridge.ts';

const APP = 'a0000000-0000-4000-8000-000000000001';

describe('LoRaWAN uplinks at the bridge', () => {
  it('start a fresh trace each, and are answered per fleet (the cache and trace tenant)', async () => {
    const registry = new DeviceRegistry();
    registry.loadFleet({
      profiles: [
        {
          id: 'room',
          codec: { kind: 'lpp' },
          model: 'comfort-index',
          input: {
            kind: 'tensor',
            name: 'readings',
            fields: [{ path: 'temperature_1' }, { path: 'relative_humidity_2' }, { path: 'concentration_3' }],
          },
          output: { labels: ['comfortable', 'too_warm', 'stuffy'] },
          location: { fixed: { lat: 52.37, lng: 4.9 } },
        },
      ],
      devices: [
        { devEui: '0004a30b001c0530', fleet: 'acme', profile: 'room' },
        { devEui: '0004a30b001c0531', fleet: 'globex', profile: 'room' },
      ],
    });
    const calls: { caller: Caller; hints: InferHints | undefined }[] = [];
    const service = {
      infer: async (body: unknown, caller: Caller, hints?: InferHints) => {
        calls.push({ caller, hints });
        const id = (body as { id: string }).id;
        return {
          response: {
            id,
            outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 3], data: [0.1, 0.8, 0.1] }],
            node: { id: 'n1' },
          } as never,
          replayed: false,
        };
      },
    };
    const bridge = createGatewayBridge({ registry, service, publish: async () => {} });
    const data = encodeLpp({ temperature_1: 28, relative_humidity_2: 50, concentration_3: 600 }).data!;
    for (const devEui of ['0004a30b001c0530', '0004a30b001c0531', '0004a30b001c0530']) {
      const event = chirpstackUplinkJson({
        deduplicationId: crypto.randomUUID(),
        timeMs: Date.now(),
        applicationId: APP,
        devEui,
        fCnt: calls.length,
        fPort: 85,
        data,
        dr: 0,
        regionConfigId: 'eu868',
        receptions: [],
      });
      await bridge.handleMessage(
        `application/${APP}/device/${devEui}/event/up`,
        new TextEncoder().encode(JSON.stringify(event)),
      );
    }
    expect(calls.map((c) => c.caller.tenant)).toEqual(['fleet:acme', 'fleet:globex', 'fleet:acme']);
    expect(calls.map((c) => c.caller.id)).toEqual(['firmware-bridge', 'firmware-bridge', 'firmware-bridge']);
    expect(calls.every((c) => c.hints?.channel === 'bridge')).toBe(true);
    const traceIds = calls.map((c) => c.hints?.trace?.traceId);
    expect(traceIds.every((t) => /^[0-9a-f]{32}$/.test(t ?? ''))).toBe(true);
    expect(new Set(traceIds).size).toBe(3);
  });
});
