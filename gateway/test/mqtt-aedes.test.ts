import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestTopic, responseTopic } from '../src/index.ts';
import { startEmbeddedBroker, type EmbeddedBroker, type MqttIngress } from '../src/node/index.ts';
import { KEY } from './fake-nodes.ts';
import {
  client,
  DEVICE_PASSWORD,
  gatewayParts,
  inbox,
  inferBody,
  startTestIngress,
  type Answer,
} from './mqtt-harness.ts';

// The embedded broker (aedes, MQTT 3.1.1 only): devices use the req/res topic pair. The ingress
// reaches it over TCP (a separate gateway) or in process (the gateway hosting it, as `hexedge dev`).
let parts: Awaited<ReturnType<typeof gatewayParts>>;
let broker: EmbeddedBroker;
let ingress: MqttIngress;
let transport: 'tcp' | 'in-process';
let open: MqttClient[] = [];

const startIngress = () =>
  startTestIngress(parts, {
    url: broker.url,
    ...(transport === 'in-process' ? { connectStream: () => broker.connect() } : {}),
    clientId: 'gw-aedes-1',
  });

async function device(id: string, password = DEVICE_PASSWORD) {
  const c = await client(broker.url, { clientId: id, username: id, password, protocolVersion: 4 });
  open.push(c);
  return c;
}

/** Subscribes to the device's answers, sends one request, returns the answer's payload. */
async function ask(c: MqttClient, requestId: string, payload: string | Buffer) {
  const id = c.options.clientId!;
  const box = inbox(c);
  await c.subscribeAsync(`hexedge/v1/res/${id}/#`, { qos: 1 });
  await c.publishAsync(requestTopic(id, requestId), payload, { qos: 1 });
  return (await box.next(responseTopic(id, requestId))).payload as Answer;
}

describe.each(['tcp', 'in-process'] as const)(
  'MQTT ingress on the embedded broker (aedes), ingress over %s',
  (over) => {
    beforeAll(async () => {
      transport = over;
      open = [];
      parts = await gatewayParts();
      broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', access: parts.access });
      ingress = await startIngress();
    });

    afterAll(async () => {
      for (const c of open) c.end(true);
      await ingress?.close();
      await broker?.close();
    });

    it('answers a v3.1.1 device on its response topic with a checked receipt', async () => {
      const res = await ask(await device('dev-a'), 'r1', JSON.stringify(inferBody()));
      expect(res.id).toBe('r1');
      expect(res.outputs[0].data).toEqual([3]);
      expect(res.node.id).toBe(parts.near.keys.nodeId);
      expect(res.receipt.body.requestId).toBe('r1');
    });

    it('lets an API-key client in under its own client id, and an admin key anywhere', async () => {
      const app = await client(broker.url, {
        clientId: 'app-1',
        username: 'anything',
        password: KEY,
        protocolVersion: 4,
      });
      open.push(app);
      expect((await ask(app, 'k1', JSON.stringify(inferBody()))).outputs[0].data).toEqual([3]);
    });

    it('binds an app key to its own client ids: it can take neither the ingress’s id nor a device’s, nor read the request topics', async () => {
      const { key, record } = await parts.keys.create({ name: 'app' });
      for (const clientId of ['gw-aedes-1', 'dev-a', 'someone-else']) {
        await expect(
          client(broker.url, { clientId, username: 'app', password: key, protocolVersion: 4 }),
          clientId,
        ).rejects.toThrow(/Bad username or password|Not authorized/i);
      }
      expect(ingress.connected).toBe(true);
      const app = await client(broker.url, {
        clientId: `${record.id}.feed`,
        username: 'app',
        password: key,
        protocolVersion: 4,
      });
      open.push(app);
      for (const filter of ['hexedge/v1/req/+/+', 'hexedge/v1/infer/+/+', 'hexedge/v1/res/dev-a/#']) {
        await expect(app.subscribeAsync(filter, { qos: 1 }), filter).rejects.toThrow(/Subscribe error/);
      }
      expect((await ask(app, 'own', JSON.stringify(inferBody()))).outputs[0].data).toEqual([3]);
    });

    it('a refused login under another client’s id does not disturb that client', async () => {
      const victim = await client(broker.url, {
        clientId: 'victim-1',
        username: 'x',
        password: KEY,
        protocolVersion: 4,
      });
      open.push(victim);
      expect((await ask(victim, 'before', JSON.stringify(inferBody()))).outputs[0].data).toEqual([3]);
      for (let i = 0; i < 3; i++) {
        await expect(
          client(broker.url, {
            clientId: 'victim-1',
            username: 'dev-a',
            password: DEVICE_PASSWORD,
            protocolVersion: 4,
          }),
        ).rejects.toThrow();
      }
      expect(victim.connected).toBe(true);
      expect((await ask(victim, 'after', JSON.stringify(inferBody()))).outputs[0].data).toEqual([3]);
    });

    it.each([
      ['bad JSON', '{"model":', 'INVALID_JSON'],
      ['an unknown model', JSON.stringify(inferBody({ model: 'nope' })), 'MODEL_NOT_FOUND'],
      [
        'a payload id that disagrees with the topic',
        JSON.stringify(inferBody({ id: 'other' })),
        'INVALID_REQUEST',
      ],
      ['a bad location', JSON.stringify(inferBody({ location: { lat: 95, lng: 0 } })), 'INVALID_LOCATION'],
      ['a payload over 8 MiB', Buffer.alloc(8 * 1024 * 1024 + 1, 0x20), 'PAYLOAD_TOO_LARGE'],
    ] as const)('answers %s with its error code', async (_what, payload, code) => {
      const requestId = `bad-${code}`;
      const res = await ask(await device('dev-b'), requestId, payload);
      expect(res.error).toMatchObject({ code, requestId });
      expect(res.error.message).toBeTruthy();
    });

    it('refuses a model the device may not use', async () => {
      const res = await ask(await device('dev-m-only'), 'm1', JSON.stringify(inferBody()));
      expect(res.error.code).toBe('FORBIDDEN');
    });

    it('answers a duplicate request once', async () => {
      const c = await device('dev-a');
      const box = inbox(c);
      await c.subscribeAsync('hexedge/v1/res/dev-a/#', { qos: 1 });
      const calls = parts.nodes.calls.length;
      await Promise.all(
        [1, 2, 3].map(() =>
          c.publishAsync(requestTopic('dev-a', 'dup-1'), JSON.stringify(inferBody()), { qos: 1 }),
        ),
      );
      await box.next(responseTopic('dev-a', 'dup-1'));
      // Positive marker: a later request from the same client, answered after any duplicate would be.
      await c.publishAsync(requestTopic('dev-a', 'dup-marker'), JSON.stringify(inferBody()), { qos: 1 });
      await box.next(responseTopic('dev-a', 'dup-marker'));
      expect(box.count(responseTopic('dev-a', 'dup-1'))).toBe(1);
      expect(parts.nodes.calls.length - calls).toBe(2); // the request and the marker: the duplicates reached no node
    });

    it('refuses a wrong password, and a device id used with another username', async () => {
      await expect(device('dev-a', 'wrong-password')).rejects.toThrow(
        /Bad username or password|Not authorized|refused/i,
      );
      await expect(
        client(broker.url, {
          clientId: 'dev-a',
          username: 'dev-b',
          password: DEVICE_PASSWORD,
          protocolVersion: 4,
        }),
      ).rejects.toThrow();
      await expect(client(broker.url, { clientId: 'nobody', protocolVersion: 4 })).rejects.toThrow();
    });

    it("keeps a device off another device's topics without disturbing anyone else", async () => {
      const a = await device('dev-a');
      const b = await device('dev-b');
      // SUBACK 0x80: mqtt.js turns the refused filter into a rejection.
      await expect(a.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
      const closed = new Promise<void>((r) => a.once('close', () => r()));
      a.publish(requestTopic('dev-b', 'spoof'), JSON.stringify(inferBody()), { qos: 1 });
      await closed; // MQTT 3.1.1 has no negative PUBACK: the broker drops the offender
      expect((await ask(b, 'after-spoof', JSON.stringify(inferBody()))).outputs).toBeDefined();
      const boxB = inbox(b);
      await b.subscribeAsync('hexedge/v1/res/dev-b/#', { qos: 1 });
      // Positive marker: b's own next request is answered; the spoofed one never was.
      await b.publishAsync(requestTopic('dev-b', 'spoof-marker'), JSON.stringify(inferBody()), { qos: 1 });
      await boxB.next(responseTopic('dev-b', 'spoof-marker'));
      expect(boxB.count(responseTopic('dev-b', 'spoof'))).toBe(0);
    });

    it('drops a connection that announces a packet far over the limit', async () => {
      const c = await device('dev-b');
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      c.publish(requestTopic('dev-b', 'huge'), Buffer.alloc(9 * 1024 * 1024), { qos: 0 });
      await closed;
      expect(
        (await ask(await device('dev-a'), 'after-huge', JSON.stringify(inferBody()))).outputs,
      ).toBeDefined();
    });

    it(
      'loses no request when the ingress dies mid-stream and restarts with the same client id',
      { timeout: 10_000 },
      async () => {
        parts.near.mode = 'slow';
        parts.near.delayMs = 100;
        try {
          const c = await device('dev-a');
          const box = inbox(c);
          await c.subscribeAsync('hexedge/v1/res/dev-a/#', { qos: 1 });
          const n = 40;
          const callsBefore = parts.nodes.calls.length;
          const sent = Array.from({ length: n }, (_, i) =>
            c.publishAsync(requestTopic('dev-a', `crash-${i}`), JSON.stringify(inferBody()), { qos: 1 }),
          );
          // Abort while requests are inside the gateway (at the node), none answered yet.
          await box.waitFor(() => parts.nodes.calls.length - callsBefore >= 10);
          ingress.abort();
          expect(box.got.length).toBe(0);
          await Promise.all(sent);
          ingress = await startIngress();
          await box.waitFor(
            () =>
              Array.from({ length: n }, (_, i) => responseTopic('dev-a', `crash-${i}`)).every(
                (t) => box.count(t) > 0,
              ),
            5_000,
          );
        } finally {
          parts.near.mode = 'ok';
        }
      },
    );
  },
);
