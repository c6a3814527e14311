import type { MqttClient } from 'mqtt';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestTopic, responseTopic } from '../src/index.ts';
import { startEmbeddedBroker, type EmbeddedBroker, type MqttIngress } from '../src/node/index.ts';
import { client, DEVICE_PASSWORD, gatewayParts, inbox, inferBody, startTestIngress } from './mqtt-harness.ts';

/** One MQTT packet as seen on the wire: its type, PUBLISH topic, packet id, and the TCP read it came in. */
interface WirePacket {
  type: number;
  topic?: string;
  messageId?: number;
  chunk: number;
}

const PUBLISH = 3;
const PUBACK = 4;

/** Splits an MQTT byte stream into packets (fixed header, remaining length; PUBLISH topic and id). */
function packetTap(into: WirePacket[]) {
  let buffered = Buffer.alloc(0);
  let chunk = 0;
  return (data: Buffer) => {
    chunk++;
    buffered = Buffer.concat([buffered, data]);
    for (;;) {
      let length = 0;
      let at = 1;
      for (let shift = 0; at < buffered.length; shift += 7) {
        const byte = buffered[at++]!;
        length += (byte & 0x7f) << shift;
        if (byte < 0x80) break;
      }
      if (buffered.length < 2 || at + length > buffered.length) return;
      const type = buffered[0]! >> 4;
      const qos = (buffered[0]! >> 1) & 3;
      const body = buffered.subarray(at, at + length);
      if (type === PUBLISH) {
        const topicBytes = body.readUInt16BE(0);
        into.push({
          type,
          topic: body.subarray(2, 2 + topicBytes).toString('utf8'),
          ...(qos > 0 ? { messageId: body.readUInt16BE(2 + topicBytes) } : {}),
          chunk,
        });
      } else if (type === PUBACK) into.push({ type, messageId: body.readUInt16BE(0), chunk });
      else into.push({ type, chunk });
      buffered = buffered.subarray(at + length);
    }
  };
}

// A TCP relay between the ingress and the embedded broker that records both directions.
let parts: Awaited<ReturnType<typeof gatewayParts>>;
let broker: EmbeddedBroker;
let relay: Server;
let ingress: MqttIngress;
const toBroker: WirePacket[] = [];
const fromBroker: WirePacket[] = [];
const sockets: Socket[] = [];
const open: MqttClient[] = [];

beforeAll(async () => {
  parts = await gatewayParts();
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', access: parts.access });
  relay = createServer((inbound) => {
    const outbound = createConnection({ port: broker.port, host: '127.0.0.1', noDelay: true });
    inbound.setNoDelay(true);
    sockets.push(inbound, outbound);
    const up = packetTap(toBroker);
    const down = packetTap(fromBroker);
    inbound.on('data', (d: Buffer) => (up(d), outbound.write(d)));
    outbound.on('data', (d: Buffer) => (down(d), inbound.write(d)));
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  ingress = await startTestIngress(parts, {
    url: `mqtt://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    clientId: 'gw-wire-order',
  });
});

afterAll(async () => {
  for (const c of open) c.end(true);
  await ingress?.close();
  for (const s of sockets) s.destroy();
  await new Promise((r) => relay?.close(r));
  await broker?.close();
});

describe('MQTT ingress on the wire', () => {
  it('acknowledges each request right behind its answer, in the same write', async () => {
    const c = await client(broker.url, {
      clientId: 'dev-a',
      username: 'dev-a',
      password: DEVICE_PASSWORD,
      protocolVersion: 4,
    });
    open.push(c);
    const box = inbox(c);
    await c.subscribeAsync('hexedge/v1/res/dev-a/#', { qos: 1 });
    const ids = Array.from({ length: 12 }, (_, i) => `wire-${i}`);
    await Promise.all(
      ids.map((id) => c.publishAsync(requestTopic('dev-a', id), JSON.stringify(inferBody()), { qos: 1 })),
    );
    await box.waitFor(() => ids.every((id) => box.count(responseTopic('dev-a', id)) === 1));
    // Positive marker: every request's PUBACK has reached the broker (they follow the answers).
    const requestIdOf = new Map(
      fromBroker.filter((p) => p.type === PUBLISH).map((p) => [p.messageId!, p.topic!.split('/').at(-1)!]),
    );
    const ackIndex = (id: string) =>
      toBroker.findIndex((p) => p.type === PUBACK && requestIdOf.get(p.messageId!) === id);
    await box.waitFor(() => ids.every((id) => ackIndex(id) >= 0));

    for (const id of ids) {
      const answer = toBroker.findIndex((p) => p.type === PUBLISH && p.topic === responseTopic('dev-a', id));
      const ack = ackIndex(id);
      expect(answer, `answer to ${id} reached the broker`).toBeGreaterThanOrEqual(0);
      expect(ack, `PUBACK of ${id} after its answer`).toBeGreaterThan(answer);
      // Not after a round trip for the answer's own PUBACK: both left in one write.
      expect(toBroker[ack]!.chunk, `PUBACK of ${id} in its answer's write`).toBe(toBroker[answer]!.chunk);
    }
  });
});
