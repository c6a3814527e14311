import pb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import gw from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import { buildComfortIndexModel, comfortIndexManifest, createOipApp, ModelSet } from '@hexedge/edge-node';
import { OrtNodeBackend } from '@hexedge/edge-node/node';
import {
  chirpstackUplinkJson,
  DeviceRegistry,
  encodeLpp,
  type MessageOutcome,
  type ProfileInput,
  type ResultMessage,
} from '@hexedge/firmware-bridge';
import {
  createGatewayApp,
  EventBus,
  hashDevicePassword,
  KeyRing,
  MemoryKeyStore,
  type GatewayEvent,
} from '@hexedge/gateway';
import { BRIDGE_SHARE_GROUP, startChirpstackIngress, type ChirpstackIngress } from '@hexedge/gateway/node';
import { Placement } from '@hexedge/placement';
import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import type { MqttClient } from 'mqtt';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, inbox, mosquittoBinary, startMosquitto } from '../../gateway/test/mqtt-harness.ts';
import { listenHttp } from '@hexedge/protocol/node';

/**
 * The LoRaWAN loop against a real Mosquitto: ChirpStack (played by a test client) publishes uplink
 * events; the gateway's ChirpStack ingress hands them to the firmware bridge, which infers through
 * the real InferService on a real edge node serving comfort-index (onnxruntime), and publishes the
 * downlink command and the result back where ChirpStack and fleet backends read them.
 */
const APP_ID = 'e2e00000-0000-4000-8000-00000000a001';
const ROOM = 'a840410000e2e001';
const ROOM_PB = 'a840410000e2e002';
const ROOM_BIG = 'a840410000e2e003';
const STRANGER = 'a840410000e2efff';
const INTEGRATION_USER = 'hexedge-gateway';
const INTEGRATION_PASSWORD = 'integration-secret-1';
const AMSTERDAM = { lat: 52.3731, lng: 4.8922 };
const LABELS = ['comfortable', 'too_warm', 'stuffy'];

const comfort: ProfileInput = {
  id: 'room-comfort',
  codec: { kind: 'lpp' },
  model: 'comfort-index',
  input: {
    kind: 'tensor',
    name: 'readings',
    fields: [{ path: 'temperature_1' }, { path: 'relative_humidity_2' }, { path: 'concentration_3' }],
  },
  output: { labels: LABELS, tensor: 'probabilities' },
  downlink: { fPort: 10, encoding: { kind: 'label-confidence' }, fallback: { kind: 'class-index' } },
  location: { fixed: AMSTERDAM },
};
/** Its encoder writes 64 bytes: more than EU868 DR0–2 carries (51), so the 1-byte fallback goes out. */
const verbose: ProfileInput = {
  ...comfort,
  id: 'room-comfort-verbose',
  downlink: {
    fPort: 12,
    encoding: {
      kind: 'js',
      source:
        'function encodeDownlink(input) { var out = [input.data.classIndex]; for (var i = 1; i < 64; i++) out.push(i); return { bytes: out }; }',
    },
    fallback: { kind: 'class-index' },
  },
};

const stack: (() => Promise<unknown>)[] = [];
let mosquitto: Awaited<ReturnType<typeof startMosquitto>>;
let chirpstack: MqttClient;
let box: ReturnType<typeof inbox>;
let ingress: ChirpstackIngress;
let session: ort.InferenceSession;
const outcomes: { topic: string; outcome: MessageOutcome }[] = [];
const busEvents: GatewayEvent[] = [];
const logs: string[] = [];

const downTopic = (devEui: string) => `application/${APP_ID}/device/${devEui}/command/down`;
const upTopic = (devEui: string) => `application/${APP_ID}/device/${devEui}/event/up`;
const resultTopic = (devEui: string) => `hexedge/v1/results/e2e/${devEui}`;
const lpp = (t: number, h: number, co2: number) =>
  encodeLpp({ temperature_1: t, relative_humidity_2: h, concentration_3: co2 }).data!;

function jsonUplink(o: { devEui: string; dedup: string; fCnt: number; data: Uint8Array; dr?: number }) {
  return chirpstackUplinkJson({
    deduplicationId: o.dedup,
    timeMs: Date.now(),
    applicationId: APP_ID,
    devEui: o.devEui,
    fCnt: o.fCnt,
    fPort: 85,
    data: o.data,
    dr: o.dr ?? 0,
    regionConfigId: 'eu868',
    receptions: [
      { gatewayId: '0016c001f153a14c', rssiDbm: -71, snrDb: 7.5, location: { lat: 52.37, lng: 4.9 } },
    ],
  });
}

function protobufUplink(o: { devEui: string; dedup: string; fCnt: number; data: Uint8Array }): Uint8Array {
  const info = new pb.DeviceInfo();
  info.setTenantId('52f14cd4-c6f1-4fbd-8f87-4025e1d49242');
  info.setApplicationId(APP_ID);
  info.setDevEui(o.devEui);
  const rx = new gw.UplinkRxInfo();
  rx.setGatewayId('0016c001f153a14c');
  rx.setRssi(-64);
  rx.setSnr(8.5);
  const up = new pb.UplinkEvent();
  up.setDeduplicationId(o.dedup);
  up.setDeviceInfo(info);
  up.setFCnt(o.fCnt);
  up.setFPort(85);
  up.setDr(3);
  up.setData(o.data);
  up.addRxInfo(rx);
  up.setRegionConfigId('eu868');
  return up.serializeBinary();
}

/** The class and confidence onnxruntime gives for one reading, computed here, not by the fabric. */
async function expected(t: number, h: number, co2: number) {
  const out = await session.run({
    readings: new ort.Tensor('float32', Float32Array.from([t, h, co2]), [1, 3]),
  });
  const p = Array.from(out.probabilities!.data as Float32Array);
  const classIndex = p.indexOf(Math.max(...p));
  return { classIndex, percent: Math.round(p[classIndex]! * 100) };
}

const bytesOf = (base64: string) => [...Buffer.from(base64, 'base64')];
const waitForOutcome = async (predicate: (o: MessageOutcome) => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = outcomes.find((o) => predicate(o.outcome));
    if (hit) return hit.outcome;
    if (Date.now() > deadline)
      throw new Error(
        `no matching outcome within ${timeoutMs} ms; got ${JSON.stringify(outcomes.map((o) => o.outcome.status))}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
};

beforeAll(async () => {
  if (!mosquittoBinary) return;
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  session = await ort.InferenceSession.create(bytes);

  // A real edge node on a socket, registered with placement by its own signature.
  const backend = await OrtNodeBackend.create();
  const models = new ModelSet({ scheduler: { maxQueueDelayUs: 500 } });
  models.add(await backend.load({ manifest, bytes }));
  const nodeKeys = await generateNodeKeyPair();
  const node = await listenHttp({
    app: createOipApp({ models, keys: nodeKeys, isReady: () => true }),
    port: 0,
    host: '127.0.0.1',
  });
  stack.push(async () => (await node.close(), await models.releaseAll()));
  const placement = new Placement({ heartbeatIntervalMs: 60_000, assumeLocationsVerified: true });
  const registration = await signBody(
    'registration',
    {
      nodeId: nodeKeys.nodeId,
      issuedAtMs: Date.now(),
      url: node.url,
      location: { lat: 52.37, lng: 4.9 },
      hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
      models: models.describe(),
    },
    nodeKeys.privateKey,
  );
  await placement.registry.register(registration);

  const keys = new KeyRing({ store: new MemoryKeyStore() });
  const { service, limiter } = createGatewayApp({ placement, keys });
  const events = new EventBus();
  events.subscribe(
    () => true,
    (e) => busEvents.push(e),
  );
  const registry = new DeviceRegistry();
  registry.loadFleet({
    profiles: [comfort, verbose],
    devices: [
      { devEui: ROOM, fleet: 'e2e', profile: 'room-comfort' },
      { devEui: ROOM_PB, fleet: 'e2e', profile: 'room-comfort' },
      { devEui: ROOM_BIG, fleet: 'e2e', profile: 'room-comfort-verbose' },
    ],
  });

  const admins = [
    {
      username: INTEGRATION_USER,
      passwordHash: await hashDevicePassword(INTEGRATION_PASSWORD, { iterations: 1_000 }),
    },
  ];
  mosquitto = await startMosquitto({ devices: [], admins });
  stack.push(() => mosquitto.stop());
  ingress = await startChirpstackIngress({
    url: mosquitto.url,
    clientId: 'gw-bridge-1',
    username: INTEGRATION_USER,
    password: INTEGRATION_PASSWORD,
    // One consumer here, so the shared form is safe; it exercises Mosquitto's `$share` path.
    shareGroup: BRIDGE_SHARE_GROUP,
    registry,
    service,
    limiter,
    events,
    onOutcome: (topic, outcome) => outcomes.push({ topic, outcome }),
    log: (entry) => entry.level !== 'info' && logs.push(JSON.stringify(entry)),
  });
  stack.push(() => ingress.close({ endSession: true }));
  // ChirpStack's side of the integration: publishes events, reads downlink commands (and a fleet backend, results).
  chirpstack = await client(mosquitto.url, {
    clientId: 'chirpstack-e2e',
    username: INTEGRATION_USER,
    password: INTEGRATION_PASSWORD,
    protocolVersion: 5,
  });
  stack.push(() => chirpstack.endAsync());
  box = inbox(chirpstack);
  await chirpstack.subscribeAsync(
    [`application/${APP_ID}/device/+/command/down`, 'hexedge/v1/results/#', 'hexedge/v1/errors/#'],
    { qos: 1 },
  );
}, 30_000);

afterAll(async () => {
  for (const close of stack.reverse()) await close().catch(() => {});
});

describe.skipIf(!mosquittoBinary)(
  'LoRaWAN loop: ChirpStack on Mosquitto → bridge → edge node → downlink',
  () => {
    it('subscribes to the ChirpStack events and direct uplinks through the share group', () => {
      expect(ingress.filters).toContain(`$share/${BRIDGE_SHARE_GROUP}/application/+/device/+/event/up`);
      expect(ingress.filters).toContain(`$share/${BRIDGE_SHARE_GROUP}/hexedge/v1/uplink/+`);
    });

    it('answers a JSON uplink with a downlink command holding the model answer, and a result message', async () => {
      const event = jsonUplink({ devEui: ROOM, dedup: 'e2e-json-1', fCnt: 7, data: lpp(29.5, 62, 1450) });
      await chirpstack.publishAsync(upTopic(ROOM), JSON.stringify(event), { qos: 1 });
      const down = await box.next(downTopic(ROOM), 5_000);
      const command = down.payload as { devEui: string; confirmed: boolean; fPort: number; data: string };
      const want = await expected(29.5, 62, 1450);
      expect(command).toMatchObject({ devEui: ROOM, confirmed: false, fPort: 10 });
      expect(bytesOf(command.data)).toEqual([want.classIndex, want.percent]);
      // The closing note's pair: one uplink event and the downlink it produced.
      console.log(
        `uplink ${upTopic(ROOM)}\n${JSON.stringify(event)}\ndownlink ${down.topic}\n${JSON.stringify(command)}`,
      );

      const result = (await box.next(resultTopic(ROOM))).payload as ResultMessage;
      expect(result).toMatchObject({
        kind: 'result',
        fleet: 'e2e',
        devEui: ROOM,
        deduplicationId: 'e2e-json-1',
        fCnt: 7,
        location: { method: 'fixed' },
      });
      expect(result.inference).toMatchObject({
        status: 'ok',
        model: 'comfort-index',
        classIndex: want.classIndex,
        label: LABELS[want.classIndex],
      });
      expect(result.downlink).toMatchObject({
        status: 'sent',
        encoding: 'label-confidence',
        maxPayloadBytes: 51,
        delivery: 'next-uplink-rx-windows',
      });
      // The bus hears of it once the broker has acknowledged the result (a moment after this client got it).
      await box.waitFor(() => busEvents.some((e) => e.type === 'fleet.result'));
      expect(busEvents.find((e) => e.type === 'fleet.result')).toMatchObject({
        audience: { kind: 'fleet', fleet: 'e2e' },
        data: { devEui: ROOM, deduplicationId: 'e2e-json-1' },
      });
    });

    it('answers a protobuf uplink with an integration.DownlinkCommand', async () => {
      await chirpstack.publishAsync(
        upTopic(ROOM_PB),
        Buffer.from(
          protobufUplink({ devEui: ROOM_PB, dedup: 'e2e-pb-1', fCnt: 1, data: lpp(21.5, 40, 480) }),
        ),
        { qos: 1 },
      );
      await box.waitFor(() => box.count(downTopic(ROOM_PB)) === 1, 5_000);
      const raw = box.got.find((g) => g.topic === downTopic(ROOM_PB))!.packet.payload as Buffer;
      const command = pb.DownlinkCommand.deserializeBinary(new Uint8Array(raw));
      const want = await expected(21.5, 40, 480);
      expect(command.getDevEui()).toBe(ROOM_PB);
      expect(command.getFPort()).toBe(10);
      expect([...command.getData_asU8()]).toEqual([want.classIndex, want.percent]);
    });

    it('processes a duplicate delivery (same deduplicationId) once', async () => {
      const event = JSON.stringify(
        jsonUplink({ devEui: ROOM, dedup: 'e2e-dup-1', fCnt: 8, data: lpp(23, 45, 600) }),
      );
      await chirpstack.publishAsync(upTopic(ROOM), event, { qos: 1 });
      await chirpstack.publishAsync(upTopic(ROOM), event, { qos: 1 });
      await waitForOutcome((o) => o.status === 'duplicate' && o.deduplicationId === 'e2e-dup-1');
      await box.waitFor(() =>
        box.got.some(
          (g) =>
            g.topic === resultTopic(ROOM) && (g.payload as ResultMessage).deduplicationId === 'e2e-dup-1',
        ),
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(
        box.got.filter(
          (g) =>
            g.topic === resultTopic(ROOM) && (g.payload as ResultMessage).deduplicationId === 'e2e-dup-1',
        ),
      ).toHaveLength(1);
      expect(box.count(downTopic(ROOM))).toBe(2);
    });

    it('sends the 1-byte fallback when the answer does not fit the uplink data rate', async () => {
      await chirpstack.publishAsync(
        upTopic(ROOM_BIG),
        JSON.stringify(
          jsonUplink({ devEui: ROOM_BIG, dedup: 'e2e-big-1', fCnt: 1, data: lpp(30, 70, 1800), dr: 0 }),
        ),
        { qos: 1 },
      );
      const command = (await box.next(downTopic(ROOM_BIG), 5_000)).payload as { fPort: number; data: string };
      const want = await expected(30, 70, 1800);
      expect(command.fPort).toBe(12);
      expect(bytesOf(command.data)).toEqual([want.classIndex]);
      const result = (await box.next(resultTopic(ROOM_BIG))).payload as ResultMessage;
      expect(result.downlink).toMatchObject({
        status: 'sent',
        encoding: 'class-index',
        payloadBytes: 1,
        maxPayloadBytes: 51,
      });
      expect((result.downlink as { fallbackReason: string }).fallbackReason).toMatch(/64 bytes/);
    });

    it("publishes a known device's bad payload as an error event (MQTT and the dashboards' bus), with no downlink", async () => {
      const truncated = Uint8Array.of(0x01, 0x67, 0x01); // LPP temperature needs 2 data bytes
      await chirpstack.publishAsync(
        upTopic(ROOM),
        JSON.stringify(jsonUplink({ devEui: ROOM, dedup: 'e2e-bad-1', fCnt: 9, data: truncated })),
        { qos: 1 },
      );
      const error = (await box.next(`hexedge/v1/errors/e2e/${ROOM}`)).payload as {
        code: string;
        message: string;
      };
      expect(error).toMatchObject({
        kind: 'error',
        code: 'DECODE_FAILED',
        deduplicationId: 'e2e-bad-1',
        fCnt: 9,
      });
      await box.waitFor(() => busEvents.some((e) => e.type === 'fleet.error'));
      expect(busEvents.find((e) => e.type === 'fleet.error')).toMatchObject({
        audience: { kind: 'fleet', fleet: 'e2e' },
        data: { code: 'DECODE_FAILED', devEui: ROOM },
      });
      expect(box.count(downTopic(ROOM))).toBe(2);
    });

    it('refuses an unknown device with an error event and no downlink, then processes the next uplink normally', async () => {
      await chirpstack.publishAsync(
        upTopic(STRANGER),
        JSON.stringify(
          jsonUplink({ devEui: STRANGER, dedup: 'e2e-stranger-1', fCnt: 1, data: lpp(22, 45, 500) }),
        ),
        { qos: 1 },
      );
      const error = await waitForOutcome((o) => o.status === 'error' && o.error.devEui === STRANGER);
      expect(error).toMatchObject({
        status: 'error',
        error: { kind: 'error', code: 'UNKNOWN_DEVICE', devEui: STRANGER },
      });
      expect(ingress.bridge.stats.errors.UNKNOWN_DEVICE).toBe(1);

      await chirpstack.publishAsync(
        upTopic(ROOM),
        JSON.stringify(jsonUplink({ devEui: ROOM, dedup: 'e2e-after-1', fCnt: 10, data: lpp(22, 45, 500) })),
        { qos: 1 },
      );
      await box.waitFor(() => box.count(downTopic(ROOM)) === 3, 5_000);
      expect(box.count(downTopic(STRANGER))).toBe(0);
      expect(box.got.some((g) => g.topic.endsWith(STRANGER))).toBe(false);
      const want = await expected(22, 45, 500);
      expect(
        bytesOf(
          (box.got.filter((g) => g.topic === downTopic(ROOM)).at(-1)!.payload as { data: string }).data,
        ),
      ).toEqual([want.classIndex, want.percent]);
    });
  },
);
