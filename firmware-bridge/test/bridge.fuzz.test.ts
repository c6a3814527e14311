import pb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import fc from 'fast-check';
import { HexEdgeError } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import {
  binaryFieldSchema,
  decodeBinary,
  decodeLpp,
  DeviceRegistry,
  encodeBinary,
  encodeLpp,
  JsCodec,
  type BinaryField,
  type MessageOutcome,
} from '../src/index.ts';
import { APP_ID, comfortProfile, encode, newBridge, PUMP, ROOM, ROOM_LPP, STRANGER, uplinkJson, VENDOR } from './helpers.ts';
import { assertNoPollution, bounded, corpusText, loadCorpus, maybeNasty, nastyJson, nastyNumber, nastyString, toJsonText, withinMs } from '@hexedge/protocol/testing';

/*
 * Properties: every MQTT message the bridge is handed (ChirpStack JSON and protobuf events, raw
 * cellular payloads, any topic) ends as a result, a duplicate, a device event or an error event with
 * one of the bridge's codes — never a throw, never an inference or downlink for a refused message,
 * never longer than a bounded time; every codec answers `{ data } | { errors }` for any bytes and
 * value; the device registry stores a profile or device whole or refuses it with a HexEdgeError
 * and changes nothing.
 */

const BRIDGE_CODES = new Set(['UNKNOWN_TOPIC', 'PAYLOAD_TOO_LARGE', 'INVALID_EVENT', 'INVALID_PROTOBUF', 'UNKNOWN_DEVICE', 'FCNT_BACKWARDS', 'DECODE_FAILED', 'INPUT_MAPPING_FAILED', 'NO_LOCATION', 'INFERENCE_FAILED']);
const KINDS = ['up', 'join', 'status', 'ack', 'txack', 'log'];
const devEui = fc.constantFrom(ROOM, PUMP, VENDOR, STRANGER, ROOM.toUpperCase(), '0004a30b001c053', 'zzzzzzzzzzzzzzzz', '__proto__');
const topic = fc.oneof(
  fc.tuple(devEui, fc.constantFrom(...KINDS, 'location', '')).map(([d, k]) => `application/${APP_ID}/device/${d}/event/${k}`),
  devEui.map((d) => `hexedge/v1/uplink/${d}`),
  fc.string({ maxLength: 40 }),
);

/** A ChirpStack JSON uplink with fields swapped for nasty values. */
const jsonEvent = fc
  .record({
    devEui: fc.constantFrom(ROOM, PUMP, VENDOR),
    fCnt: fc.oneof(fc.nat(1000), nastyNumber),
    fPort: fc.oneof(fc.integer({ min: 0, max: 256 }), nastyNumber),
    data: fc.oneof(fc.constant(ROOM_LPP), fc.uint8Array({ maxLength: 24 })),
    dr: fc.oneof(fc.integer({ min: -1, max: 16 }), nastyNumber),
    region: fc.oneof(fc.constantFrom('eu868', 'us915', 'as923', 'xx'), nastyString),
    deviceClass: fc.constantFrom('CLASS_A', 'CLASS_C', 'X'),
    rxInfo: fc.option(fc.array(fc.record({ gatewayId: fc.constantFrom('0016c001f153a14c', 'x'), rssi: nastyNumber, snr: nastyNumber, location: maybeNasty(fc.record({ latitude: fc.double({ min: -100, max: 100, noNaN: true }), longitude: fc.double({ min: -200, max: 200, noNaN: true }) })) }), { maxLength: 3 }), { nil: undefined }),
    extra: fc.dictionary(fc.constantFrom('deduplicationId', 'time', 'deviceInfo', 'data', 'object', 'fCnt', 'txInfo', '__proto__', 'constructor'), nastyJson, { maxKeys: 2 }),
  })
  .map((o) => ({ devEui: o.devEui, text: toJsonText(uplinkJson({ ...o, deviceClass: o.deviceClass, fCnt: o.fCnt as number, fPort: o.fPort as number, dr: o.dr as number, region: o.region as string })) }));

/** A valid protobuf uplink, then bytes flipped, cut or appended. */
function protobufUplink(dev: string, fCnt: number): Uint8Array {
  const u = new pb.UplinkEvent();
  u.setDeduplicationId(crypto.randomUUID());
  const info = new pb.DeviceInfo();
  info.setDevEui(dev);
  info.setApplicationId(APP_ID);
  u.setDeviceInfo(info);
  u.setFCnt(fCnt);
  u.setFPort(10);
  u.setData(ROOM_LPP);
  return u.serializeBinary();
}
const protobufEvent = fc.record({ fCnt: fc.nat(1000), edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), { maxLength: 3 }) }).map(({ fCnt, edits }) => {
  let bytes = Array.from(protobufUplink(ROOM, fCnt));
  for (const [at, b, op] of edits) {
    const i = at % Math.max(1, bytes.length);
    if (op === 'flip') bytes[i] = b;
    else if (op === 'cut') bytes = bytes.slice(0, i);
    else bytes.splice(i, 0, b);
  }
  return Uint8Array.from(bytes);
});

function expectOutcome(outcome: MessageOutcome, context: string) {
  expect(['result', 'duplicate', 'error', 'event'], context).toContain(outcome.status);
  if (outcome.status === 'error') expect(BRIDGE_CODES.has(outcome.error.code), `${context}: ${outcome.error.code}`).toBe(true);
}

describe('fuzz: FirmwareBridge.handleMessage', () => {
  it('turns every topic and payload (JSON, protobuf, raw) into an outcome, with no inference or downlink for a refusal', async () => {
    const t = newBridge();
    const payload = fc.oneof(
      jsonEvent.map((e) => new TextEncoder().encode(e.text)),
      protobufEvent,
      fc.uint8Array({ maxLength: 64 }),
      nastyJson.map((v) => new TextEncoder().encode(toJsonText(v))),
    );
    await fc.assert(
      fc.asyncProperty(topic, payload, async (tp, p) => {
        const requests = t.requests.length;
        const downlinks = t.on('application/').length + t.on('hexedge/v1/downlink/').length;
        const outcome = await withinMs(3_000, 'handleMessage', () => t.bridge.handleMessage(tp, p));
        const context = `${tp} ${new TextDecoder().decode(p).slice(0, 200)}`;
        expectOutcome(outcome, context);
        if (outcome.status !== 'result') {
          expect(t.requests.length, context).toBe(requests);
          expect(t.on('application/').length + t.on('hexedge/v1/downlink/').length, context).toBe(downlinks);
        }
        assertNoPollution();
      }),
      bounded(300, 3_000),
    );
    // Still works afterwards.
    const next = await t.bridge.handleMessage(`application/${APP_ID}/device/${ROOM}/event/up`, encode(uplinkJson({ fCnt: 100_000, data: ROOM_LPP })));
    expect(next.status).toBe('result');
  });

  it('replays the corpus of nastiest events', async () => {
    for (const c of loadCorpus(new URL('./corpus/events.json', import.meta.url))) {
      const t = newBridge();
      const payload = c.payloadHex !== undefined ? Uint8Array.from((c.payloadHex as string).match(/../g) ?? [], (h) => parseInt(h, 16)) : new TextEncoder().encode(corpusText(c));
      const outcome = await withinMs(3_000, c.name, () => t.bridge.handleMessage(c.topic as string, payload));
      expectOutcome(outcome, c.name);
      if (c.code !== undefined) expect(outcome.status === 'error' ? outcome.error.code : outcome.status, c.name).toBe(c.code);
      if (outcome.status !== 'result') expect(t.requests, c.name).toHaveLength(0);
      assertNoPollution();
    }
  });
});

describe('fuzz: codecs', () => {
  const ctx = { fPort: 10, recvTimeMs: 0 };
  const isCodecResult = (r: { data?: unknown; errors: string[] }) => (r.errors.length === 0) === (r.data !== undefined);

  it('LPP decodes any bytes and encodes any value to data or errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), nastyJson, (bytes, value) => {
        expect(isCodecResult(decodeLpp(bytes))).toBe(true);
        expect(isCodecResult(encodeLpp(value))).toBe(true);
        assertNoPollution();
      }),
      bounded(500, 1_000),
    );
  });

  it('binary schemas (any valid field list) decode any bytes and encode any value to data or errors', () => {
    const field = fc.record(
      {
        name: fc.oneof(fc.constantFrom('a', 'b', '__proto__', 'constructor'), fc.string({ minLength: 1, maxLength: 5 })),
        offset: fc.nat(16),
        type: fc.constantFrom('uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32'),
        endian: fc.constantFrom('big', 'little'),
        scale: nastyNumber,
        add: nastyNumber,
        bits: fc.record({ start: fc.nat(40), length: fc.integer({ min: 0, max: 40 }) }),
        count: fc.integer({ min: 0, max: 8 }),
        stride: fc.integer({ min: 0, max: 8 }),
      },
      { requiredKeys: ['name', 'offset', 'type'] },
    );
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 40 }), nastyJson, (raw, bytes, value) => {
        const fields: BinaryField[] = [];
        for (const f of raw) {
          const parsed = binaryFieldSchema.safeParse(f);
          if (parsed.success) fields.push(parsed.data);
        }
        if (fields.length === 0) return;
        expect(isCodecResult(decodeBinary(bytes, fields))).toBe(true);
        expect(isCodecResult(encodeBinary(value, fields))).toBe(true);
        assertNoPollution();
      }),
      bounded(500, 1_500),
    );
  });

  it('a JS codec gives data or errors for any bytes, even with a hostile source', async () => {
    const sources = [
      'function decodeUplink(input) { return { data: { t: input.bytes[0] / (input.bytes[1] - 1) } }; }',
      'function decodeUplink(input) { return { data: input.bytes.length ? JSON.parse(String.fromCharCode.apply(null, input.bytes)) : null }; }',
      'function decodeUplink(input) { var o = 1; for (var i = 0; i < input.bytes[0] * 40; i++) o = [o]; return { data: { o: o } }; }',
      'function decodeUplink(input) { if (input.bytes[0] & 1) throw input.bytes; return { errors: [input.bytes[1]] }; }',
      'function Decoder(bytes, port) { return bytes.length > 2 ? { __proto__: { polluted: true }, a: bytes[0] } : bytes; }',
      'function decodeUplink(input) { while (input.bytes[0] === 7) {} return { data: {} }; }',
      'function decodeUplink(input) { return { data: { s: new Array(input.bytes[0] * 1000).join("x") } }; }',
    ];
    const codecs = sources.map((source) => new JsCodec({ source, timeoutMs: 50 }));
    await fc.assert(
      fc.asyncProperty(fc.nat(sources.length - 1), fc.uint8Array({ maxLength: 16 }), nastyJson, async (i, bytes, value) => {
        const decoded = await withinMs(2_000, 'JS decode', () => codecs[i]!.decode(bytes, ctx));
        expect(isCodecResult(decoded), sources[i]).toBe(true);
        const encoded = await withinMs(2_000, 'JS encode', () => codecs[i]!.encode(value, ctx));
        expect(isCodecResult(encoded)).toBe(true);
        assertNoPollution();
      }),
      bounded(60, 3_000),
    );
  });
});

describe('fuzz: device registry', () => {
  it('stores a profile or device whole, or refuses it with a HexEdgeError and changes nothing', () => {
    const registry = new DeviceRegistry();
    registry.putProfile(comfortProfile);
    const profile = fc.record(
      {
        id: maybeNasty(fc.constantFrom('p1', 'room-comfort', '__proto__', 'constructor', 'A', '')),
        codec: maybeNasty(fc.oneof(fc.constant({ kind: 'lpp' }), fc.record({ kind: fc.constant('js'), source: maybeNasty(fc.constant('function decodeUplink(i){return {data:{}}}')), timeoutMs: maybeNasty(fc.integer({ min: -1, max: 6000 })) }), fc.record({ kind: fc.constant('binary'), fields: fc.array(fc.record({ name: maybeNasty(fc.constant('a')), offset: maybeNasty(fc.nat(4)), type: maybeNasty(fc.constant('uint8')) }), { maxLength: 2 }) }))),
        model: maybeNasty(fc.constant('comfort-index')),
        input: maybeNasty(fc.oneof(fc.constant(comfortProfile.input), fc.record({ kind: fc.constant('reading-window'), readings: maybeNasty(fc.integer({ min: -1, max: 100 })), readingIntervalS: maybeNasty(fc.nat()), fields: fc.dictionary(fc.constantFrom('a', '__proto__', 'constructor', 'toString'), fc.constantFrom('temperature_1', ''), { maxKeys: 3 }) }))),
        output: maybeNasty(fc.record({ labels: maybeNasty(fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 })) })),
        downlink: maybeNasty(fc.record({ fPort: maybeNasty(fc.integer({ min: -1, max: 300 })), encoding: maybeNasty(fc.constant({ kind: 'class-index' })) })),
        location: maybeNasty(fc.record({ fixed: maybeNasty(fc.record({ lat: nastyNumber, lng: nastyNumber })) }, { requiredKeys: [] })),
      },
      { requiredKeys: [] },
    );
    const device = fc.record(
      { devEui: maybeNasty(fc.constantFrom(ROOM, 'zz', ROOM.toUpperCase())), fleet: maybeNasty(fc.constantFrom('acme', '__proto__', 'A B')), profile: maybeNasty(fc.constantFrom('room-comfort', 'nope', '__proto__')), location: maybeNasty(fc.record({ lat: nastyNumber, lng: nastyNumber })) },
      { requiredKeys: [] },
    );
    const snapshot = () => JSON.stringify({ p: registry.listProfiles(), d: registry.listDevices() });
    fc.assert(
      fc.property(fc.oneof(profile.map((p) => ['profile', p] as const), device.map((d) => ['device', d] as const), nastyJson.map((v) => ['profile', v] as const)), ([kind, raw]) => {
        const value = JSON.parse(toJsonText(raw)) as unknown;
        const before = snapshot();
        try {
          if (kind === 'profile') registry.putProfile(value);
          else registry.putDevice(value);
        } catch (err) {
          expect(err, toJsonText(raw).slice(0, 200)).toBeInstanceOf(HexEdgeError);
          expect(snapshot()).toBe(before);
        }
        assertNoPollution();
      }),
      bounded(400, 2_000),
    );
  });
});
