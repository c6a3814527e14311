import pb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import gw from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';
import {
  chirpstackUplinkJson,
  encodeLpp,
  type ProfileInput,
  type ResultMessage,
} from '@hexedge/firmware-bridge';
import {
  freePort,
  inbox,
  initNode,
  mqttClient,
  requirePart,
  startAclBroker,
  startGatewayProcess,
  startNodeProcess,
  startOracleProcess,
  waitUntil,
  type GatewayProcess,
  type NodeProcess,
  type OracleProcess,
  type Proc,
} from '@hexedge/test-kit';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The LoRaWAN loop through the deployables, each started as an operator starts it, from config files:
 * a real Mosquitto configured by `hexedge broker acl`, `hexedge oracle`, `hexedge gateway` (its MQTT
 * ingress and firmware bridge on ChirpStack's topics, its receipt forwarding to the oracle) and two
 * `hexedge node run` (fresh operators: `node init`, then `node run`, which pulls the network's models
 * from the gateway's origin). Devices and profiles go in through the gateway's HTTP API. ChirpStack is
 * played by a test client publishing uplink events; it reads the downlink commands and results.
 */
const mosquitto = requirePart('mosquitto', import.meta.filename);
const ADMIN_KEY = 'lorawan-e2e-admin-key-0123456789';
const BROKER_USER = 'hexedge-gateway';
const BROKER_PASSWORD = 'lorawan-e2e-broker-secret';
const APP_ID = 'e2e00000-0000-4000-8000-00000000a001';
const ROOM = 'a840410000e2e001';
const ROOM_PB = 'a840410000e2e002';
const ROOM_BIG = 'a840410000e2e003';
const STRANGER = 'a840410000e2efff';
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

const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-lorawan-e2e-'));
const procs: Proc[] = [];
let broker: Proc;
let oracle: OracleProcess;
let gateway: GatewayProcess;
const nodes: NodeProcess[] = [];
let chirpstack: MqttClient;
let box: ReturnType<typeof inbox>;
let session: ort.InferenceSession;

const downTopic = (devEui: string) => `application/${APP_ID}/device/${devEui}/command/down`;
const upTopic = (devEui: string) => `application/${APP_ID}/device/${devEui}/event/up`;
const resultTopic = (devEui: string) => `hexedge/v1/results/e2e/${devEui}`;
const lpp = (t: number, h: number, co2: number) =>
  encodeLpp({ temperature_1: t, relative_humidity_2: h, concentration_3: co2 }).data!;
const bytesOf = (base64: string) => [...Buffer.from(base64, 'base64')];
const resultsFor = (devEui: string, dedup: string) =>
  box.got.filter(
    (g) => g.topic === resultTopic(devEui) && (g.payload as ResultMessage).deduplicationId === dedup,
  );

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

async function admin(method: string, route: string, body?: unknown) {
  const res = await fetch(`${gateway.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

beforeAll(async () => {
  if (mosquitto.skip) return;
  const bytes = buildComfortIndexModel();
  session = await ort.InferenceSession.create(bytes);
  // The origin registry: the gateway's models directory.
  const modelsDir = path.join(dir, 'origin');
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(bytes), bytes });

  const started = await startAclBroker({
    binary: mosquitto.path,
    dir: path.join(dir, 'mosquitto'),
    devicesFile: path.join(dir, 'gateway', 'devices.json'),
    gatewayPassword: BROKER_PASSWORD,
  });
  broker = started.broker;
  const brokerPort = started.port;
  procs.push(broker);

  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  oracle = await startOracleProcess({
    configFile: path.join(dir, 'oracle.yaml'),
    config: {
      port: 0,
      dataDir: path.join(dir, 'oracle'),
      gatewayUrls: [gatewayUrl],
      challengeIntervalMs: 0,
      directoryRefreshMs: 500,
      trustPushIntervalMs: 500,
      exportIntervalMs: 0,
      oracle: {
        samplingRate: 1,
        checkersPerSample: 1,
        minCheckerResponses: 1,
        scoreIntervalMs: 500,
        idleMs: 50,
      },
    },
  });
  procs.push(oracle);
  gateway = await startGatewayProcess({
    configFile: path.join(dir, 'gateway.yaml'),
    adminKey: ADMIN_KEY,
    mqttPassword: BROKER_PASSWORD,
    config: {
      port: gatewayPort,
      dataDir: path.join(dir, 'gateway'),
      modelsDir,
      heartbeatIntervalMs: 1_000,
      // Every process shares this machine: location proofs have nothing to measure here, and the nodes
      // listen on 127.0.0.1, a private address a public gateway would refuse.
      assumeLocationsVerified: true,
      allowPrivateNodeAddresses: true,
      // One consumer each here, so the shared forms are safe; they exercise Mosquitto's `$share` path.
      mqtt: {
        url: `mqtt://127.0.0.1:${brokerPort}`,
        username: BROKER_USER,
        protocolVersion: 5,
        shared: true,
        chirpstack: { shared: true },
      },
      oracle: { url: oracle.url, oracleIds: [oracle.oracleId] },
    },
  });
  procs.push(gateway);
  // Ready means subscribed: the ingress and the bridge are parts of readiness.
  expect(await (await fetch(`${gateway.url}/healthz`)).json()).toEqual({
    ok: true,
    parts: { 'mqtt-ingress': 'up', 'chirpstack-ingress': 'up' },
  });

  for (const [i, place] of [AMSTERDAM, { lat: 52.36, lng: 4.91 }].entries()) {
    const dataDir = path.join(dir, 'nodes', `node-${i}`);
    await initNode({ dataDir, ...place, gatewayUrl: gateway.url });
    const node = await startNodeProcess({ dataDir, args: ['--port', '0'] });
    procs.push(node);
    nodes.push(node);
  }

  await admin('PUT', `/v1/profiles/${comfort.id}`, comfort);
  await admin('PUT', `/v1/profiles/${verbose.id}`, verbose);
  for (const [devEui, profile] of [
    [ROOM, comfort.id],
    [ROOM_PB, comfort.id],
    [ROOM_BIG, verbose.id],
  ] as const) {
    await admin('PUT', `/v1/devices/${devEui}`, { devEui, fleet: 'e2e', profile });
  }

  // ChirpStack's side of the integration: publishes events, reads downlink commands (and a fleet backend, results).
  chirpstack = await mqttClient(`mqtt://127.0.0.1:${brokerPort}`, {
    clientId: 'chirpstack-e2e',
    username: BROKER_USER,
    password: BROKER_PASSWORD,
    protocolVersion: 5,
  });
  box = inbox(chirpstack);
  await chirpstack.subscribeAsync(
    [`application/${APP_ID}/device/+/command/down`, 'hexedge/v1/results/#', 'hexedge/v1/errors/#'],
    { qos: 1 },
  );
}, 180_000);

afterAll(async () => {
  await chirpstack?.endAsync().catch(() => {});
  for (const p of procs.reverse()) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(mosquitto.skip)(
  'LoRaWAN loop through hexedge gateway, oracle and node run: ChirpStack on Mosquitto → bridge → edge node → downlink',
  () => {
    it('a fresh operator node pulled the network’s model from the origin and serves it', async () => {
      for (const node of nodes) {
        expect(node.lines.join('\n')).toMatch(/the network wants 1 model\(s\) here: comfort-index@1/);
        expect(node.lines.join('\n')).toMatch(/loaded comfort-index@1/);
      }
    });

    it('answers a JSON uplink with a downlink command holding the model answer, and a result message', async () => {
      const event = jsonUplink({ devEui: ROOM, dedup: 'e2e-json-1', fCnt: 7, data: lpp(29.5, 62, 1450) });
      await chirpstack.publishAsync(upTopic(ROOM), JSON.stringify(event), { qos: 1 });
      const down = await box.next(downTopic(ROOM), 10_000);
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
    });

    it('answers a protobuf uplink with an integration.DownlinkCommand', async () => {
      await chirpstack.publishAsync(
        upTopic(ROOM_PB),
        Buffer.from(
          protobufUplink({ devEui: ROOM_PB, dedup: 'e2e-pb-1', fCnt: 1, data: lpp(21.5, 40, 480) }),
        ),
        { qos: 1 },
      );
      await box.waitFor(() => box.count(downTopic(ROOM_PB)) === 1, 10_000);
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
      // A positive marker: the device's next uplink, handled after both copies.
      await chirpstack.publishAsync(
        upTopic(ROOM),
        JSON.stringify(
          jsonUplink({ devEui: ROOM, dedup: 'e2e-dup-marker', fCnt: 9, data: lpp(23, 45, 610) }),
        ),
        { qos: 1 },
      );
      await box.waitFor(() => resultsFor(ROOM, 'e2e-dup-marker').length === 1, 10_000);
      expect(resultsFor(ROOM, 'e2e-dup-1')).toHaveLength(1);
      expect(box.count(downTopic(ROOM))).toBe(3);
    });

    it('sends the 1-byte fallback when the answer does not fit the uplink data rate', async () => {
      await chirpstack.publishAsync(
        upTopic(ROOM_BIG),
        JSON.stringify(
          jsonUplink({ devEui: ROOM_BIG, dedup: 'e2e-big-1', fCnt: 1, data: lpp(30, 70, 1800), dr: 0 }),
        ),
        { qos: 1 },
      );
      const command = (await box.next(downTopic(ROOM_BIG), 10_000)).payload as {
        fPort: number;
        data: string;
      };
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

    it("publishes a known device's bad payload as an error event, with no downlink", async () => {
      const before = box.count(downTopic(ROOM));
      const truncated = Uint8Array.of(0x01, 0x67, 0x01); // LPP temperature needs 2 data bytes
      await chirpstack.publishAsync(
        upTopic(ROOM),
        JSON.stringify(jsonUplink({ devEui: ROOM, dedup: 'e2e-bad-1', fCnt: 10, data: truncated })),
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
        fCnt: 10,
      });
      expect(box.count(downTopic(ROOM))).toBe(before);
    });

    it('ignores an unknown device (no downlink, no message on its topics) and processes the next uplink normally', async () => {
      const before = box.count(downTopic(ROOM));
      await chirpstack.publishAsync(
        upTopic(STRANGER),
        JSON.stringify(
          jsonUplink({ devEui: STRANGER, dedup: 'e2e-stranger-1', fCnt: 1, data: lpp(22, 45, 500) }),
        ),
        { qos: 1 },
      );
      await chirpstack.publishAsync(
        upTopic(ROOM),
        JSON.stringify(jsonUplink({ devEui: ROOM, dedup: 'e2e-after-1', fCnt: 11, data: lpp(22, 45, 500) })),
        { qos: 1 },
      );
      await box.waitFor(() => box.count(downTopic(ROOM)) === before + 1, 10_000);
      expect(box.got.some((g) => g.topic.endsWith(STRANGER))).toBe(false);
      const want = await expected(22, 45, 500);
      expect(
        bytesOf(
          (box.got.filter((g) => g.topic === downTopic(ROOM)).at(-1)!.payload as { data: string }).data,
        ),
      ).toEqual([want.classIndex, want.percent]);
      expect(gateway.lines.join('\n')).toMatch(/UNKNOWN_DEVICE/);
    });

    it("feeds the oracle's spot checks: the gateway forwards the bridge's receipts and the oracle judges them", async () => {
      const servedBy = new Set(nodes.map((n) => n.nodeId));
      const checked = await waitUntil(
        'a spot-check verdict on a node that served an uplink',
        async () => {
          for (const id of servedBy) {
            const report = (await (await fetch(`${oracle.url}/v1/oracle/nodes/${id}`)).json()) as {
              spotChecks: Array<{ status: string }>;
            };
            if (report.spotChecks.length > 0) return report.spotChecks;
          }
          return undefined;
        },
        { timeoutMs: 30_000 },
      );
      // Checked on another node and found in agreement; nothing honest is judged a fraud.
      expect(checked.map((v) => v.status)).toContain('pass');
      expect(checked.map((v) => v.status)).not.toContain('fraud');
    });
  },
);
