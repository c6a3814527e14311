import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashDevicePassword, inferTopic, requestTopic, responseTopic } from '../src/index.ts';
import { startMqttIngress, type MqttIngress } from '../src/node/index.ts';
import {
  client,
  DEVICE_PASSWORD,
  gatewayParts,
  inbox,
  inferBody,
  mosquittoBinary,
  startMosquitto,
  TEST_ITERATIONS,
  type Answer,
} from './mqtt-harness.ts';

// A real Mosquitto, configured only by the dynamic-security file and config that `hexedge broker acl` writes.
const GATEWAY_USER = 'hexedge-gateway';
const GATEWAY_PASSWORD = 'gateway-secret-1';
let parts: Awaited<ReturnType<typeof gatewayParts>>;
let mosquitto: Awaited<ReturnType<typeof startMosquitto>>;
const ingresses: MqttIngress[] = [];
const open: MqttClient[] = [];

async function startIngress(clientId: string, seen?: string[]) {
  const ingress = await startMqttIngress({
    url: mosquitto.url,
    clientId,
    username: GATEWAY_USER,
    password: GATEWAY_PASSWORD,
    service: parts.service,
    principalOf: (id) => (seen?.push(id), parts.access.principalOf(id)),
  });
  ingresses.push(ingress);
  return ingress;
}

async function device(id: string, protocolVersion: 4 | 5 = 5, password = DEVICE_PASSWORD) {
  const c = await client(mosquitto.url, { clientId: id, username: id, password, protocolVersion });
  open.push(c);
  return c;
}

/** A v5 request: model in the topic, answer on the device's own response topic with correlation data. */
async function askV5(c: MqttClient, correlation: string | Buffer, payload: string | Buffer, model = 'm') {
  const id = c.options.clientId!;
  const box = inbox(c);
  const reply = `hexedge/v1/res/${id}/v5`;
  await c.subscribeAsync(`hexedge/v1/res/${id}/#`, { qos: 1 });
  const correlationData = Buffer.from(correlation);
  await c.publishAsync(inferTopic(id, model), payload, {
    qos: 1,
    properties: { responseTopic: reply, correlationData },
  });
  await box.waitFor(() => box.got.some((g) => g.packet.properties?.correlationData?.equals(correlationData)));
  return box.got.find((g) => g.packet.properties?.correlationData?.equals(correlationData))!;
}

describe.skipIf(!mosquittoBinary)(
  'MQTT ingress on Mosquitto (v5 and v3.1.1, shared subscription, generated ACLs)',
  () => {
    beforeAll(async () => {
      parts = await gatewayParts();
      const admins = [
        {
          username: GATEWAY_USER,
          passwordHash: await hashDevicePassword(GATEWAY_PASSWORD, { iterations: TEST_ITERATIONS }),
        },
      ];
      mosquitto = await startMosquitto({ devices: parts.devices.store.list(), admins });
      await startIngress('gw-1');
    });

    afterAll(async () => {
      for (const c of open) c.end(true);
      for (const i of ingresses) await i.close({ endSession: true }).catch(() => {});
      await mosquitto?.stop();
    });

    it('answers a v5 request with its correlation data and status properties', async () => {
      const answer = await askV5(
        await device('dev-a'),
        'corr-1',
        JSON.stringify(inferBody({ model: undefined })),
      );
      const res = answer.payload as Answer;
      expect(res.id).toBe('corr-1');
      expect(res.outputs[0].data).toEqual([3]);
      expect(answer.packet.properties?.userProperties).toMatchObject({ 'hexedge-status': 'ok' });
      expect(answer.packet.properties?.contentType).toBe('application/json');
    });

    it('answers a v3.1.1 request on the response topic', async () => {
      const c = await device('dev-b', 4);
      const box = inbox(c);
      await c.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      await c.publishAsync(requestTopic('dev-b', 'r1'), JSON.stringify(inferBody()), { qos: 1 });
      expect(((await box.next(responseTopic('dev-b', 'r1'))).payload as Answer).receipt.body.requestId).toBe(
        'r1',
      );
    });

    it.each([
      [
        'a payload model that disagrees with the topic',
        'c-mismatch',
        JSON.stringify(inferBody({ model: 'other' })),
        'INVALID_REQUEST',
        '0x99',
      ],
      ['bad JSON', 'c-json', '{', 'INVALID_JSON', '0x99'],
      [
        'an unknown model',
        'c-model',
        JSON.stringify(inferBody({ model: undefined })),
        'MODEL_NOT_FOUND',
        '0x83',
      ],
      [
        'a payload over 8 MiB',
        'c-size',
        Buffer.alloc(8 * 1024 * 1024 + 1, 0x20),
        'PAYLOAD_TOO_LARGE',
        '0x95',
      ],
    ] as const)(
      'answers %s with the code, also as user properties',
      async (_what, correlation, payload, code, reason) => {
        const answer = await askV5(
          await device('dev-a'),
          correlation,
          payload,
          code === 'MODEL_NOT_FOUND' ? 'nope' : 'm',
        );
        expect((answer.payload as { error: unknown }).error).toMatchObject({ code, requestId: correlation });
        expect(answer.packet.properties?.userProperties).toMatchObject({
          'hexedge-status': 'error',
          'hexedge-error-code': code,
          'hexedge-reason-code': reason,
        });
      },
    );

    it('turns binary correlation data into a request id', async () => {
      const answer = await askV5(
        await device('dev-a'),
        Buffer.from([0, 1, 2, 255]),
        JSON.stringify(inferBody()),
      );
      expect((answer.payload as { id: string }).id).toBe('cd-AAEC_w');
    });

    it('refuses a wrong password', async () => {
      await expect(device('dev-a', 5, 'wrong-password')).rejects.toThrow(
        /Bad User Name or Password|Not authorized/i,
      );
    });

    it("keeps a device off another device's topics and off models it may not use", async () => {
      const a = await device('dev-a');
      // The dynamic-security plugin refuses the filter outright (SUBACK 0x87).
      const snoop = inbox(a);
      await expect(a.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 })).rejects.toThrow(/Not authorized/i);
      await expect(
        a.publishAsync(requestTopic('dev-b', 'spoof'), JSON.stringify(inferBody()), { qos: 1 }),
      ).rejects.toThrow(/135|Not authorized/i);
      const m = await device('dev-m-only');
      await expect(
        m.publishAsync(inferTopic('dev-m-only', 'm'), '{}', {
          qos: 1,
          properties: { responseTopic: 'hexedge/v1/res/dev-m-only/x' },
        }),
      ).rejects.toThrow(/135|Not authorized/i);
      // The offenders' connections and everyone else's keep working.
      expect(
        ((await askV5(a, 'after-spoof', JSON.stringify(inferBody()))).payload as { outputs: unknown })
          .outputs,
      ).toBeDefined();
      const b = await device('dev-b', 4);
      const boxB = inbox(b);
      await b.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      await b.publishAsync(requestTopic('dev-b', 'private'), JSON.stringify(inferBody()), { qos: 1 });
      await boxB.next(responseTopic('dev-b', 'private'));
      // Positive marker: a's own request, answered after b's answer was published.
      await a.subscribeAsync('hexedge/v1/res/dev-a/#', { qos: 1 });
      await a.publishAsync(requestTopic('dev-a', 'snoop-marker'), JSON.stringify(inferBody()), { qos: 1 });
      await snoop.next(responseTopic('dev-a', 'snoop-marker'));
      expect(snoop.got.filter((g) => g.topic.startsWith('hexedge/v1/res/dev-b/'))).toEqual([]);
      expect(boxB.count(responseTopic('dev-b', 'spoof'))).toBe(0);
    });

    it('answers only on the sender’s own response topic: a device spoofing another’s topic and next id changes nothing for it', async () => {
      const a = await device('dev-a');
      const b = await device('dev-b');
      const boxB = inbox(b);
      await b.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      // A names B's response topic and B's next request ids, in its own request topic (the only one its ACL allows)…
      for (const id of ['b-next', 'b-next-311']) {
        await a.publishAsync(
          inferTopic('dev-a', 'm'),
          JSON.stringify(
            inferBody({
              model: undefined,
              inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [100] }],
            }),
          ),
          {
            qos: 1,
            properties: { responseTopic: `hexedge/v1/res/dev-b/${id}`, correlationData: Buffer.from(id) },
          },
        );
      }
      // … and in B's (refused by the broker).
      await expect(
        a.publishAsync(inferTopic('dev-b', 'm'), '{}', {
          qos: 1,
          properties: { responseTopic: 'hexedge/v1/res/dev-b/x' },
        }),
      ).rejects.toThrow(/135|Not authorized/i);
      // B's own requests with those ids, v5 and v3.1.1, are answered with B's own answers, once.
      await b.publishAsync(inferTopic('dev-b', 'm'), JSON.stringify(inferBody({ model: undefined })), {
        qos: 1,
        properties: { responseTopic: 'hexedge/v1/res/dev-b/b-next', correlationData: Buffer.from('b-next') },
      });
      await boxB.waitFor(() => boxB.got.some((g) => g.topic === 'hexedge/v1/res/dev-b/b-next'));
      expect(
        boxB.got
          .filter((g) => g.topic === 'hexedge/v1/res/dev-b/b-next')
          .map((g) => (g.payload as Answer).outputs[0].data),
      ).toEqual([[3]]);
      // The same device, now in the v3.1.1 form (one connection per device: its client id is its own).
      await b.endAsync();
      const b311 = await client(mosquitto.url, {
        clientId: 'dev-b',
        username: 'dev-b',
        password: DEVICE_PASSWORD,
        protocolVersion: 4,
      });
      open.push(b311);
      const box311 = inbox(b311);
      await b311.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      await b311.publishAsync(requestTopic('dev-b', 'b-next-311'), JSON.stringify(inferBody()), { qos: 1 });
      const mine = (await box311.next(responseTopic('dev-b', 'b-next-311'))).payload as Answer;
      expect(mine.outputs[0].data).toEqual([3]); // 1.5 doubled: B's input, not A's 100
    });

    it('keeps devices out of the gateway’s share group and off the request topics: no request is withheld', async () => {
      const a = await device('dev-a');
      for (const filter of [
        '$share/hexedge/hexedge/v1/req/+/+',
        '$share/hexedge/hexedge/v1/infer/+/+',
        'hexedge/v1/req/+/+',
        '#',
      ]) {
        await expect(a.subscribeAsync(filter, { qos: 1 }), filter).rejects.toThrow(/Not authorized/i);
      }
      const b = await device('dev-b', 4);
      const box = inbox(b);
      await b.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      for (let i = 0; i < 6; i++)
        await b.publishAsync(requestTopic('dev-b', `share-${i}`), JSON.stringify(inferBody()), { qos: 1 });
      await box.waitFor(() => box.got.filter((g) => g.topic.includes('/share-')).length === 6);
    });

    it('refuses a device logging in with the ingress’s client id; the ingress stays connected', async () => {
      const ingress = ingresses[0]!;
      expect(ingress.connected).toBe(true);
      await expect(
        client(mosquitto.url, {
          clientId: ingress.clientId,
          username: 'dev-a',
          password: DEVICE_PASSWORD,
          protocolVersion: 5,
        }),
      ).rejects.toThrow(/Not authorized|Bad User Name/i);
      expect(ingress.connected).toBe(true);
      const answer = await askV5(
        await device('dev-a'),
        'after-takeover',
        JSON.stringify(inferBody({ model: undefined })),
      );
      expect((answer.payload as Answer).outputs[0].data).toEqual([3]);
    });

    it(
      'splits requests between two ingress instances on one shared subscription, each answered exactly once',
      { timeout: 15_000 },
      async () => {
        const seen1: string[] = [];
        const seen2: string[] = [];
        await ingresses.shift()!.close({ endSession: true });
        await startIngress('gw-share-1', seen1);
        await startIngress('gw-share-2', seen2);
        const c = await device('dev-b', 4);
        const box = inbox(c);
        await c.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
        const n = 40;
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            c.publishAsync(requestTopic('dev-b', `s-${i}`), JSON.stringify(inferBody()), { qos: 1 }),
          ),
        );
        await box.waitFor(() => box.got.length >= n);
        // Positive marker: one more request, answered after any duplicate of the first n would be.
        await c.publishAsync(requestTopic('dev-b', 's-marker'), JSON.stringify(inferBody()), { qos: 1 });
        await box.next(responseTopic('dev-b', 's-marker'));
        box.got.splice(
          box.got.findIndex((g) => g.topic === responseTopic('dev-b', 's-marker')),
          1,
        );
        for (let i = 0; i < n; i++) expect(box.count(responseTopic('dev-b', `s-${i}`))).toBe(1);
        expect(box.got).toHaveLength(n);
        expect(seen1.length + seen2.length).toBe(n + 1);
        expect(seen1.length).toBeGreaterThan(0);
        expect(seen2.length).toBeGreaterThan(0);
      },
    );

    it(
      'loses no request when an ingress dies mid-stream and restarts with the same client id',
      { timeout: 15_000 },
      async () => {
        while (ingresses.length) await ingresses.pop()!.close({ endSession: true });
        let ingress = await startIngress('gw-crash');
        parts.near.mode = 'slow';
        parts.near.delayMs = 100;
        try {
          const c = await device('dev-a');
          const box = inbox(c);
          await c.subscribeAsync('hexedge/v1/res/dev-a/#', { qos: 1 });
          const n = 40;
          const callsBefore = parts.nodes.calls.length;
          const sent = Array.from({ length: n }, (_, i) =>
            c.publishAsync(inferTopic('dev-a', 'm'), JSON.stringify(inferBody()), {
              qos: 1,
              properties: {
                responseTopic: 'hexedge/v1/res/dev-a/crash',
                correlationData: Buffer.from(`crash-${i}`),
              },
            }),
          );
          await box.waitFor(() => parts.nodes.calls.length - callsBefore >= 10);
          ingress.abort();
          expect(box.got.length).toBe(0);
          await Promise.all(sent);
          ingress = await startIngress('gw-crash');
          const ids = () => new Set(box.got.map((g) => g.packet.properties?.correlationData?.toString()));
          await box.waitFor(() => ids().size === n, 8_000);
        } finally {
          parts.near.mode = 'ok';
        }
      },
    );
  },
);
