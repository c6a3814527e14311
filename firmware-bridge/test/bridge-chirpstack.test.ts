import pb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import gw from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import common from '@chirpstack/chirpstack-api/common/common_pb.js';
import { describe, expect, it } from 'vitest';
import { APP_ID, encode, fromB64, hex, newBridge, PUMP, ROOM, ROOM_LPP, TRACKER, upTopic, uplinkJson, VENDOR } from './helpers.ts';

const { UplinkEvent, DeviceInfo, DownlinkCommand } = pb;

describe('FirmwareBridge: ChirpStack JSON uplinks', () => {
  it('decodes, infers and sends the exact downlink command and result message', async () => {
    const t = newBridge();
    const event = uplinkJson({ dedup: '9e3a3c0e-6b4f-4e1f-8a77-0a1f2b3c4d5e', data: ROOM_LPP });
    const outcome = await t.bridge.handleMessage(upTopic(ROOM), encode(event));
    expect(outcome.status).toBe('result');

    expect(t.requests).toEqual([
      {
        model: 'comfort-index',
        location: expect.objectContaining({ lat: expect.closeTo(52.37, 1), lng: expect.closeTo(4.89, 1) }),
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [27.2, 48.5, 650] }],
        id: 'fb-9e3a3c0e-6b4f-4e1f-8a77-0a1f2b3c4d5e',
      },
    ]);

    const [down] = t.on('application/');
    expect(down!.topic).toBe(`application/${APP_ID}/device/${ROOM}/command/down`);
    expect(down!.qos).toBe(1);
    const command = t.json(down!);
    expect(command).toEqual({ id: '00000000-0000-4000-8000-000000000001', devEui: ROOM, confirmed: false, fPort: 10, data: 'AUY=' });
    // label-confidence: class index 1 (too_warm), confidence 70 %.
    expect(fromB64(command.data as string)).toEqual(Uint8Array.of(1, 70));

    const [res] = t.on('hexedge/v1/results/');
    expect(res!.topic).toBe(`hexedge/v1/results/acme/${ROOM}`);
    const result = t.json(res!);
    expect(result).toMatchObject({
      kind: 'result',
      fleet: 'acme',
      devEui: ROOM,
      source: 'chirpstack',
      deduplicationId: event.deduplicationId,
      fCnt: 10,
      fPort: 85,
      time: '2025-03-01T11:59:59.512Z',
      decoded: { temperature_1: 27.2, relative_humidity_2: 48.5, concentration_3: 650 },
      location: { method: 'gateways', gatewayCount: 2 },
      inference: { status: 'ok', model: 'comfort-index', modelVersion: '1.0.0', label: 'too_warm', classIndex: 1, confidence: 0.7, node: { id: 'node-ams-1' }, receipt: { signature: 'test' } },
      downlink: { status: 'sent', fPort: 10, encoding: 'label-confidence', dataHex: '0146', payloadBytes: 2, maxPayloadBytes: 242, limitBasis: 'eu868 DR5', deviceClass: 'A', delivery: 'next-uplink-rx-windows' },
    });
    expect(t.bridge.stats).toMatchObject({ uplinks: 1, inferences: 1, downlinks: 1, errors: {} });
  });

  it('weights the gateway centroid towards the stronger reception', async () => {
    const t = newBridge();
    await t.bridge.handleMessage(upTopic(ROOM), encode(uplinkJson({ data: ROOM_LPP })));
    const { lat } = t.requests[0]!.location;
    // -36 dBm at 52.3702 against -113 dBm (RSSI + SNR) at 52.36: nearly all weight on the first.
    expect(lat).toBeGreaterThan(52.369);
    expect(lat).toBeLessThan(52.3702);
  });

  it('tolerates unknown fields and absent proto3 defaults (fCnt 0, dr 0, no rxInfo location)', async () => {
    const t = newBridge();
    const event: Record<string, unknown> = uplinkJson({ devEui: PUMP, data: hex('01f403e80834'), extra: { futureField: { nested: true }, relayRxInfo: null } });
    delete event.fCnt;
    delete event.dr;
    delete event.adr;
    delete event.txInfo;
    (event.deviceInfo as Record<string, unknown>).brandNew = 'x';
    delete (event.deviceInfo as Record<string, unknown>).deviceClassEnabled;
    const outcome = await t.bridge.handleMessage(upTopic(PUMP), encode(event));
    expect(outcome.status).toBe('result');
    const result = t.json(t.on('hexedge/v1/results/')[0]!);
    expect(result).toMatchObject({ fCnt: 0, decoded: { rmsG: 0.5, peakG: 1, temperatureC: 21 }, location: { method: 'fixed', lat: 51.5, lng: -0.12 } });
    expect(result.downlink).toMatchObject({ status: 'sent', limitBasis: 'eu868 DR0', maxPayloadBytes: 51, encoding: 'probabilities', dataHex: '1ab333' });
  });

  it('processes a duplicate delivery (same deduplicationId) once', async () => {
    const t = newBridge();
    const body = encode(uplinkJson({ dedup: 'dup-1', data: ROOM_LPP }));
    expect((await t.bridge.handleMessage(upTopic(ROOM), body)).status).toBe('result');
    expect(await t.bridge.handleMessage(upTopic(ROOM), body)).toEqual({ status: 'duplicate', deduplicationId: 'dup-1' });
    expect(t.requests).toHaveLength(1);
    expect(t.on('application/')).toHaveLength(1);
    expect(t.bridge.stats.duplicates).toBe(1);
  });

  it('logs an fCnt that goes backwards and does not re-infer it; a join resets the counter', async () => {
    const t = newBridge();
    await t.bridge.handleMessage(upTopic(ROOM), encode(uplinkJson({ fCnt: 7, data: ROOM_LPP })));
    const back = await t.bridge.handleMessage(upTopic(ROOM), encode(uplinkJson({ fCnt: 5, data: ROOM_LPP })));
    expect(back).toMatchObject({ status: 'error', error: { code: 'FCNT_BACKWARDS', message: expect.stringMatching(/fCnt 5 is not above the last processed 7/) } });
    expect(t.requests).toHaveLength(1);
    expect(t.logs.some((l) => l.includes('FCNT_BACKWARDS'))).toBe(true);

    const join = { deduplicationId: 'j1', time: '2025-03-01T12:00:00Z', deviceInfo: uplinkJson({ data: ROOM_LPP }).deviceInfo, devAddr: '0118a2b3' };
    expect(await t.bridge.handleMessage(`application/${APP_ID}/device/${ROOM}/event/join`, encode(join))).toEqual({ status: 'event', kind: 'join', devEui: ROOM });
    expect((await t.bridge.handleMessage(upTopic(ROOM), encode(uplinkJson({ fCnt: 0, data: ROOM_LPP })))).status).toBe('result');
    expect(t.requests).toHaveLength(2);
  });

  it('takes the fallback when the answer does not fit the region/DR, and logs why', async () => {
    const t = newBridge();
    await t.bridge.handleMessage(upTopic(VENDOR), encode(uplinkJson({ devEui: VENDOR, data: Uint8Array.of(88, 90), region: 'us915_1', dr: 0 })));
    const command = t.json(t.on('application/')[0]!);
    expect(command).toMatchObject({ devEui: VENDOR, fPort: 12 });
    expect(fromB64(command.data as string)).toEqual(Uint8Array.of(1));
    const result = t.json(t.on('hexedge/v1/results/')[0]!);
    expect(result.downlink).toMatchObject({
      status: 'sent',
      encoding: 'class-index',
      payloadBytes: 1,
      maxPayloadBytes: 11,
      fallbackReason: 'codec answer is 20 bytes, over the 11-byte limit of us915 DR0',
    });
    expect(t.logs).toContain(`warn ${VENDOR}: downlink fell back to class-index: codec answer is 20 bytes, over the 11-byte limit of us915 DR0`);
    expect(t.bridge.stats.fallbacks).toBe(1);

    // At DR3 the 20-byte answer fits and is sent whole.
    await t.bridge.handleMessage(upTopic(VENDOR), encode(uplinkJson({ devEui: VENDOR, fCnt: 11, data: Uint8Array.of(88, 90), region: 'us915_1', dr: 3 })));
    expect(fromB64(t.json(t.on('application/')[1]!).data as string)).toHaveLength(20);
  });

  it('sends no downlink when the results-only fallback applies, and says why', async () => {
    // An unknown region gets the smallest limit of any region (11 bytes); 16 classes × 1 byte do not fit.
    const t = newBridge({
      answer: (r) => ({ outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 16], data: Array(16).fill(1 / 16) }], node: { id: 'n1' }, id: r.id }),
    });
    const outcome = await t.bridge.handleMessage(upTopic(PUMP), encode(uplinkJson({ devEui: PUMP, data: hex('01f403e80834'), region: 'xx999' })));
    expect(outcome.status).toBe('result');
    expect(t.on('application/')).toHaveLength(0);
    expect(t.json(t.on('hexedge/v1/results/')[0]!).downlink).toEqual({
      status: 'not-sent',
      reason: "probabilities answer is 16 bytes, over the 11-byte limit of unknown region 'xx999'; using the smallest limit of any region; fallback is results-only",
      deviceClass: 'A',
    });
    expect(t.bridge.stats.resultsOnly).toBe(1);
  });

  it('reports Class C delivery and supports confirmed downlinks', async () => {
    const { DeviceRegistry } = await import('../src/index.ts');
    const registry = new DeviceRegistry();
    const { comfortProfile } = await import('./helpers.ts');
    registry.putProfile({ ...comfortProfile, downlink: { fPort: 10, confirmed: true, encoding: { kind: 'class-index' } } });
    registry.putDevice({ devEui: ROOM, fleet: 'acme', profile: 'room-comfort' });
    const t = newBridge({ registry });
    await t.bridge.handleMessage(upTopic(ROOM), encode(uplinkJson({ data: ROOM_LPP, deviceClass: 'CLASS_C' })));
    expect(t.json(t.on('application/')[0]!)).toMatchObject({ confirmed: true, fPort: 10, data: 'AQ==' });
    expect(t.json(t.on('hexedge/v1/results/')[0]!).downlink).toMatchObject({ confirmed: true, deviceClass: 'C', delivery: 'immediate' });
  });

  it('uses a GPS fix from the payload and hands GPS + receptions to the coverage oracle', async () => {
    const evidence: unknown[] = [];
    const t = newBridge({ onCoverageEvidence: (e) => evidence.push(e) });
    const withGps = Uint8Array.from([...ROOM_LPP, ...hex('0688067 65ff2960a0003e8'.replace(/ /g, ''))]);
    await t.bridge.handleMessage(upTopic(TRACKER), encode(uplinkJson({ devEui: TRACKER, dedup: 'gps-1', data: withGps })));
    expect(t.requests[0]!.location).toEqual({ lat: 42.3519, lng: -87.9094 });
    expect(t.json(t.on('hexedge/v1/results/')[0]!).location).toEqual({ lat: 42.3519, lng: -87.9094, method: 'gps' });
    expect(evidence).toEqual([
      expect.objectContaining({
        devEui: TRACKER,
        fleet: 'acme',
        deduplicationId: 'gps-1',
        gps: { lat: 42.3519, lng: -87.9094, altitudeM: 10 },
        receptions: [
          { gatewayId: '0016c001f153a14c', rssiDbm: -36, snrDb: 10.5, location: { lat: 52.3702, lng: 4.8952, altitudeM: 3 } },
          { gatewayId: '0016c001f153a14d', rssiDbm: -110, snrDb: -3, location: { lat: 52.36, lng: 4.885, altitudeM: 0 } },
        ],
        dr: 5,
        regionConfigId: 'eu868',
        frequencyHz: 868100000,
      }),
    ]);
  });

  it('counts join, status, ack, txack and log events without inferring', async () => {
    const t = newBridge();
    const deviceInfo = uplinkJson({ data: ROOM_LPP }).deviceInfo;
    const topic = (k: string) => `application/${APP_ID}/device/${ROOM}/event/${k}`;
    await t.bridge.handleMessage(topic('status'), encode({ deduplicationId: 's1', deviceInfo, margin: 7, batteryLevel: 87.5 }));
    await t.bridge.handleMessage(topic('ack'), encode({ deviceInfo, queueItemId: 'q1', acknowledged: true, fCntDown: 3 }));
    await t.bridge.handleMessage(topic('txack'), encode({ downlinkId: 1, deviceInfo, queueItemId: 'q1', fCntDown: 3, gatewayId: '0016c001f153a14c' }));
    await t.bridge.handleMessage(topic('log'), encode({ deviceInfo, level: 'ERROR', code: 'UPLINK_CODEC', description: 'codec failed' }));
    expect(t.bridge.stats.events).toEqual({ join: 0, status: 1, ack: 1, txack: 1, log: 1 });
    expect(t.requests).toHaveLength(0);
    expect(t.logs).toContain(`info ${ROOM}: status margin 7 dB, battery 87.5 %`);
    expect(t.logs).toContain(`warn ${ROOM}: ChirpStack ERROR UPLINK_CODEC: codec failed`);
  });
});

describe('FirmwareBridge: ChirpStack protobuf uplinks', () => {
  function protobufUplink(o: { fCnt: number; dedup: string; deviceClass?: 0 | 1 | 2 }): Uint8Array {
    const info = new DeviceInfo();
    info.setTenantId('52f14cd4-c6f1-4fbd-8f87-4025e1d49242');
    info.setApplicationId(APP_ID);
    info.setDevEui(ROOM);
    info.setDeviceClassEnabled(o.deviceClass ?? 0);
    const rx = new gw.UplinkRxInfo();
    rx.setGatewayId('0016c001f153a14c');
    rx.setRssi(-57);
    rx.setSnr(9.25);
    const location = new common.Location();
    location.setLatitude(48.8566);
    location.setLongitude(2.3522);
    rx.setLocation(location);
    const up = new UplinkEvent();
    up.setDeduplicationId(o.dedup);
    up.setDeviceInfo(info);
    up.setFCnt(o.fCnt);
    up.setFPort(85);
    up.setDr(2);
    up.setData(ROOM_LPP);
    up.addRxInfo(rx);
    up.setRegionConfigId('eu868');
    return up.serializeBinary();
  }

  it('decodes integration.UplinkEvent and answers with an integration.DownlinkCommand', async () => {
    const t = newBridge();
    const outcome = await t.bridge.handleMessage(upTopic(ROOM), protobufUplink({ fCnt: 3, dedup: 'pb-1' }));
    expect(outcome.status).toBe('result');
    expect(t.requests[0]).toMatchObject({ location: { lat: 48.8566, lng: 2.3522 }, inputs: [{ data: [27.2, 48.5, 650] }], id: 'fb-pb-1' });
    const down = t.on('application/')[0]!;
    expect(down.topic).toBe(`application/${APP_ID}/device/${ROOM}/command/down`);
    const command = DownlinkCommand.deserializeBinary(down.payload as Uint8Array);
    expect(command.getDevEui()).toBe(ROOM);
    expect(command.getFPort()).toBe(10);
    expect(command.getConfirmed()).toBe(false);
    expect(command.getId()).toBe('00000000-0000-4000-8000-000000000001');
    expect(command.getData_asU8()).toEqual(Uint8Array.of(1, 70));
    expect(t.json(t.on('hexedge/v1/results/')[0]!)).toMatchObject({ deduplicationId: 'pb-1', fCnt: 3, location: { method: 'gateways' }, downlink: { limitBasis: 'eu868 DR2', maxPayloadBytes: 51 } });
  });

  it('processes protobuf duplicates once', async () => {
    const t = newBridge();
    await t.bridge.handleMessage(upTopic(ROOM), protobufUplink({ fCnt: 3, dedup: 'pb-2' }));
    expect((await t.bridge.handleMessage(upTopic(ROOM), protobufUplink({ fCnt: 3, dedup: 'pb-2' }))).status).toBe('duplicate');
    expect(t.requests).toHaveLength(1);
  });
});

describe('FirmwareBridge: cellular devices on hexedge/v1/uplink/{devEui}', () => {
  it('runs the same decode → infer → encode path and answers on hexedge/v1/downlink/{devEui}', async () => {
    const t = newBridge();
    const outcome = await t.bridge.handleMessage(`hexedge/v1/uplink/${PUMP.toUpperCase()}`, hex('01f403e80834'));
    expect(outcome).toMatchObject({ status: 'result', result: { source: 'direct', fPort: 1, location: { method: 'fixed' }, downlink: { status: 'sent', delivery: 'mqtt', dataHex: '1ab333' } } });
    const down = t.on('hexedge/v1/downlink/')[0]!;
    expect(down.topic).toBe(`hexedge/v1/downlink/${PUMP}`);
    expect(down.payload).toEqual(hex('1ab333'));
  });
});
