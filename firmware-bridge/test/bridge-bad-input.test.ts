import pb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import { describe, expect, it } from 'vitest';
import { HexEdgeError } from '@hexedge/protocol';
import { APP_ID, encode, hex, newBridge, PUMP, ROOM, ROOM_LPP, STRANGER, upTopic, uplinkJson, VENDOR } from './helpers.ts';

type Case = { name: string; topic: string; payload: Uint8Array; code: string; message: RegExp; published: boolean };

const cases: Case[] = [
  { name: 'truncated LPP', topic: upTopic(ROOM), payload: encode(uplinkJson({ data: hex('0167011002') })), code: 'DECODE_FAILED', message: /LPP truncated: channel byte at offset 4 has no type byte/, published: true },
  { name: 'malformed LPP value', topic: upTopic(ROOM), payload: encode(uplinkJson({ data: hex('01670110026800037d02') })), code: 'DECODE_FAILED', message: /LPP truncated: concentration on channel 3 at offset 7 needs 2 value bytes, 1 left/, published: true },
  { name: 'unknown LPP type', topic: upTopic(ROOM), payload: encode(uplinkJson({ data: hex('0167011009ab00') })), code: 'DECODE_FAILED', message: /LPP unknown type 0xab \(171\) on channel 9 at offset 4/, published: true },
  { name: 'schema field past the end', topic: upTopic(PUMP), payload: encode(uplinkJson({ devEui: PUMP, data: hex('01f403e8') })), code: 'DECODE_FAILED', message: /field 'temperatureC' needs bytes 4..5 but the payload has 4 bytes/, published: true },
  { name: 'codec that throws', topic: upTopic(VENDOR), payload: encode(uplinkJson({ devEui: VENDOR, data: hex('ee01') })), code: 'DECODE_FAILED', message: /JS codec: Error: firmware 0xee not supported/, published: true },
  { name: "codec's own error", topic: upTopic(VENDOR), payload: encode(uplinkJson({ devEui: VENDOR, data: hex('01') })), code: 'DECODE_FAILED', message: /JS codec: payload too short/, published: true },
  { name: 'LPP without the mapped field', topic: upTopic(ROOM), payload: encode(uplinkJson({ data: hex('016701100268 61'.replace(' ', '')) })), code: 'INPUT_MAPPING_FAILED', message: /decoded payload has no field 'concentration_3'/, published: true },
  { name: 'event missing deviceInfo.devEui', topic: upTopic(ROOM), payload: encode({ ...uplinkJson({ data: ROOM_LPP }), deviceInfo: { applicationId: APP_ID } }), code: 'INVALID_EVENT', message: /ChirpStack up event: deviceInfo.devEui: /, published: true },
  { name: 'event with non-base64 data', topic: upTopic(ROOM), payload: encode({ ...uplinkJson({ data: ROOM_LPP }), data: 'not base64!' }), code: 'INVALID_EVENT', message: /data: must be base64/, published: true },
  { name: 'event with a string fCnt', topic: upTopic(ROOM), payload: encode({ ...uplinkJson({ data: ROOM_LPP }), fCnt: 'ten' }), code: 'INVALID_EVENT', message: /fCnt: /, published: true },
  { name: 'JSON that does not parse', topic: upTopic(ROOM), payload: new TextEncoder().encode('{"deduplicationId": '), code: 'INVALID_EVENT', message: /is not JSON/, published: true },
  { name: 'devEui that differs from the topic', topic: upTopic(ROOM), payload: encode(uplinkJson({ devEui: PUMP, data: ROOM_LPP })), code: 'INVALID_EVENT', message: new RegExp(`deviceInfo.devEui ${PUMP} does not match the topic's ${ROOM}`), published: true },
  { name: 'protobuf that does not parse', topic: upTopic(ROOM), payload: Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0x01, 0x02), code: 'INVALID_PROTOBUF', message: /not a valid protobuf message/, published: true },
  { name: 'protobuf without a device', topic: upTopic(ROOM), payload: (() => { const u = new pb.UplinkEvent(); u.setDeduplicationId('x'); return u.serializeBinary(); })(), code: 'INVALID_PROTOBUF', message: /deviceInfo.devEui must be 16 hex digits/, published: true },
  { name: 'unknown device', topic: upTopic(STRANGER), payload: encode(uplinkJson({ devEui: STRANGER, data: ROOM_LPP })), code: 'UNKNOWN_DEVICE', message: /device 0004a30b001cffff is not registered/, published: false },
  { name: 'unknown device on the cellular topic', topic: `hexedge/v1/uplink/${STRANGER}`, payload: ROOM_LPP, code: 'UNKNOWN_DEVICE', message: /not registered/, published: false },
  { name: 'topic that is not ours', topic: `application/${APP_ID}/device/${ROOM}/event/location`, payload: encode({}), code: 'UNKNOWN_TOPIC', message: /is not a ChirpStack event/, published: false },
];

describe('FirmwareBridge: bad input gives an error event, no inference, no downlink, and the next message works', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const t = newBridge();
      const outcome = await t.bridge.handleMessage(c.topic, c.payload);
      expect(outcome).toMatchObject({ status: 'error', error: { kind: 'error', code: c.code, message: expect.stringMatching(c.message) } });
      expect(t.requests).toHaveLength(0);
      expect(t.on('application/')).toHaveLength(0);
      expect(t.on('hexedge/v1/results/')).toHaveLength(0);
      expect(t.bridge.stats.errors).toEqual({ [c.code]: 1 });
      expect(t.logs.some((l) => l.startsWith('warn') && l.includes(c.code))).toBe(true);
      const errors = t.on('hexedge/v1/errors/');
      if (c.published) {
        expect(errors).toHaveLength(1);
        expect(errors[0]!.topic).toMatch(/^hexedge\/v1\/errors\/acme\/[0-9a-f]{16}$/);
        expect(t.json(errors[0]!)).toMatchObject({ kind: 'error', code: c.code, fleet: 'acme' });
      } else {
        expect(errors).toHaveLength(0);
      }

      const next = await t.bridge.handleMessage(upTopic(ROOM), encode(uplinkJson({ fCnt: 99, data: ROOM_LPP })));
      expect(next.status).toBe('result');
      expect(t.on('application/')).toHaveLength(1);
    });
  }

  it('an inference failure is an error event with the gateway error code', async () => {
    const t = newBridge({
      answer: () => {
        throw new HexEdgeError('NO_NODE_AVAILABLE', "no healthy node can serve model 'comfort-index' right now");
      },
    });
    const outcome = await t.bridge.handleMessage(upTopic(ROOM), encode(uplinkJson({ data: ROOM_LPP })));
    expect(outcome).toMatchObject({ status: 'error', error: { code: 'INFERENCE_FAILED', message: "model 'comfort-index': NO_NODE_AVAILABLE: no healthy node can serve model 'comfort-index' right now" } });
    expect(t.on('application/')).toHaveLength(0);
    expect(t.on('hexedge/v1/errors/acme/')).toHaveLength(1);
  });

  it('no location at all is an error event', async () => {
    const t = newBridge();
    const outcome = await t.bridge.handleMessage(upTopic(ROOM), encode(uplinkJson({ data: ROOM_LPP, rxInfo: [{ gatewayId: 'g', rssi: -80, snr: 5 }] })));
    expect(outcome).toMatchObject({ status: 'error', error: { code: 'NO_LOCATION' } });
    expect(t.requests).toHaveLength(0);
  });

  it('a message over the size limit is refused before parsing', async () => {
    const t = newBridge();
    const outcome = await t.bridge.handleMessage(upTopic(ROOM), new Uint8Array(300 * 1024).fill(0x7b));
    expect(outcome).toMatchObject({ status: 'error', error: { code: 'PAYLOAD_TOO_LARGE' } });
  });
});
