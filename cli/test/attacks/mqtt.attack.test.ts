import type { MqttClient } from 'mqtt';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  inferBody,
  MODEL,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
} from '../faults/fabric.ts';
import {
  deviceClient,
  GATEWAY_MQTT_PASSWORD,
  mosquittoBinary,
  prepareMosquitto,
} from '../faults/mosquitto.ts';
import { freePort, type Proc } from '@hexedge/test-kit';

/**
 * Devices attacking each other and the gateway on a real Mosquitto configured only by the files
 * `hexedge broker acl` writes, in front of `hexedge gateway --config FILE` (a process) and a real
 * edge node: answer spoofing (v5 and the v3.1.1 form), joining the gateway's share group, and taking
 * the ingress's client id.
 */
const procs: Proc[] = [];
const clients: MqttClient[] = [];
let fs: Awaited<ReturnType<typeof scratch>>;
let broker: Proc;
let brokerUrl: string;
let gatewayUrl: string;
const INGRESS_CLIENT_ID = 'hexedge-gateway-1';

beforeAll(async () => {
  fs = await scratch('mqtt-attack');
  const gatewayDataDir = path.join(fs.dir, 'gateway');
  const mq = await prepareMosquitto({ dir: fs.dir, gatewayDataDir, devices: ['dev-a', 'dev-b'] });
  broker = await mq.start();
  brokerUrl = mq.url;
  const gateway = await startGatewayProcess({
    dataDir: gatewayDataDir,
    modelsDir: fs.modelsDir,
    port: await freePort(),
    mqtt: { url: mq.url, clientId: INGRESS_CLIENT_ID },
    mqttPassword: GATEWAY_MQTT_PASSWORD,
  });
  procs.push(gateway);
  gatewayUrl = gateway.url;
  procs.push(
    await startNodeProcess({
      dir: fs.dir,
      name: 'n0',
      gatewayUrl,
      modelsDir: fs.modelsDir,
      place: NODE_PLACES[0]!,
    }),
  );
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const p of procs.reverse()) await p.stop();
  await broker?.stop();
  await fs?.cleanup();
});

async function device(id: string, protocolVersion: 4 | 5 = 5, clientId = id) {
  const c = await deviceClient(brokerUrl, id, { protocolVersion, clientId });
  clients.push(c);
  return c;
}

/** Collects a client's messages by topic. */
function collect(c: MqttClient) {
  const got = new Map<string, string[]>();
  c.on('message', (topic, payload) => got.set(topic, [...(got.get(topic) ?? []), payload.toString()]));
  const until = async (topic: string, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!got.get(topic)?.length) {
      if (Date.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, 20));
    }
    return got.get(topic)!;
  };
  return { got, until };
}

const A_INPUT = [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [10, 95, 3000] }];

/** What the model answers for a body, through the HTTP API (the reference a device's answer must match). */
async function expectedOutputs(extra: Record<string, unknown> = {}) {
  const res = await fetch(`${gatewayUrl}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(inferBody(extra)),
  });
  return ((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
}

describe.skipIf(!mosquittoBinary)(
  'MQTT attacks on Mosquitto (hexedge broker acl files) and hexedge gateway',
  () => {
    it('a device naming another’s response topic and next request id neither answers to it nor swallows its request', async () => {
      const a = await device('dev-a');
      const aBox = collect(a);
      await a.subscribeAsync('hexedge/v1/res/dev-a/#', { qos: 1 });
      const b = await device('dev-b', 4);
      const bBox = collect(b);
      await b.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      const spoof = {
        qos: 1 as const,
        properties: { responseTopic: 'hexedge/v1/res/dev-b/b-1', correlationData: Buffer.from('b-1') },
      };
      const body = JSON.stringify(inferBody({ model: undefined, inputs: A_INPUT }));
      // The old v5 topic and the new one (its own): whichever the broker lets through.
      await a.publishAsync(`hexedge/v1/infer/${MODEL}`, body, spoof).catch(() => undefined);
      await a.publishAsync(`hexedge/v1/infer/dev-a/${MODEL}`, body, spoof).catch(() => undefined);
      // A's own request after the spoof: once it is answered, the spoof has been handled too (in order).
      await a.publishAsync('hexedge/v1/req/dev-a/a-1', JSON.stringify(inferBody()), { qos: 1 });
      expect(await aBox.until('hexedge/v1/res/dev-a/a-1')).toBeDefined();
      // B's own request with that id, in the v3.1.1 form, is answered, with B's answer, once.
      await b.publishAsync('hexedge/v1/req/dev-b/b-1', JSON.stringify(inferBody()), { qos: 1 });
      const answers = (await bBox.until('hexedge/v1/res/dev-b/b-1')) ?? [];
      const own = await expectedOutputs();
      expect(
        answers.map((p) => (JSON.parse(p) as { outputs?: { data: number[] }[] }).outputs?.[0]?.data),
      ).toEqual([own]);
    });

    it('a device cannot join the gateway’s share group and withhold other devices’ requests', async () => {
      const a = await device('dev-a');
      for (const filter of [
        '$share/hexedge/hexedge/v1/req/+/+',
        `$share/hexedge/hexedge/v1/infer/+/+`,
        `$share/hexedge/hexedge/v1/infer/+`,
      ]) {
        await a.subscribeAsync(filter, { qos: 1 }).catch(() => undefined);
      }
      const b = await device('dev-b', 4);
      const bBox = collect(b);
      await b.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      for (let i = 0; i < 6; i++)
        await b.publishAsync(`hexedge/v1/req/dev-b/share-${i}`, JSON.stringify(inferBody()), { qos: 1 });
      const answered = [];
      for (let i = 0; i < 6; i++)
        if (await bBox.until(`hexedge/v1/res/dev-b/share-${i}`, 4_000)) answered.push(i);
      expect(answered).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('a device logging in with the ingress’s client id does not disconnect the ingress', async () => {
      const states: number[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          states.push((await fetch(`${gatewayUrl}/healthz`)).status);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const attacker = await device('dev-a', 5, INGRESS_CLIENT_ID).catch(() => undefined);
      // Positive marker: a request sent after the attempt is answered (the ingress is up and subscribed).
      const b = await device('dev-b', 4);
      const bBox = collect(b);
      await b.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      await b.publishAsync('hexedge/v1/req/dev-b/after-takeover', JSON.stringify(inferBody()), { qos: 1 });
      const answered = await bBox.until('hexedge/v1/res/dev-b/after-takeover', 8_000);
      polling = false;
      await poller;
      attacker?.end(true);
      expect(answered).toBeDefined();
      expect(states.filter((s) => s !== 200)).toEqual([]);
      expect(attacker).toBeUndefined();
    });
  },
);
