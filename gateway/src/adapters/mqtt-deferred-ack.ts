import type { MqttClient, Packet } from 'mqtt';

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

/**
 * mqtt.js sends a QoS 1 PUBACK as soon as the message handler returns, and runs handlers one at a
 * time. The ingress wants both concurrency and durability: it takes the next request at once but
 * acknowledges each only after its answer is published, so a gateway that dies mid-request leaves
 * the request with the broker, which redelivers it to the restarted instance. PUBACKs still go out
 * in arrival order, as MQTT §4.6 asks. This hooks mqtt.js's private `_sendPacket` (the only place
 * the PUBACK is written); the persistent-session test fails loudly if a release changes that.
 */
export function deferPubacks(client: MqttClient): { hold(messageId: number): () => void } {
  const target = client as unknown as { _sendPacket: SendPacket };
  const send = target._sendPacket.bind(client);
  let queue: { messageId: number; intercepted: boolean; released: boolean }[] = [];
  const flush = () => {
    // Off line, mqtt.js would queue a PUBACK and send it on the next connection, where its packet id
    // names another message: what is unacknowledged at a disconnect is the broker's to redeliver.
    if (!client.connected) return;
    while (queue[0]?.intercepted && queue[0]?.released)
      send({ cmd: 'puback', messageId: queue.shift()!.messageId });
  };
  target._sendPacket = (packet, cb, ...rest) => {
    const entry =
      packet.cmd === 'puback'
        ? queue.find((e) => e.messageId === packet.messageId && !e.intercepted)
        : undefined;
    if (!entry) return send(packet, cb, ...rest);
    entry.intercepted = true;
    cb?.();
    flush();
  };
  // Packet ids are per connection: after a reconnect the broker redelivers what was not acked.
  client.on('close', () => {
    queue = [];
  });
  return {
    hold(messageId) {
      const entry = { messageId, intercepted: false, released: false };
      const mine = queue;
      mine.push(entry);
      return () => {
        entry.released = true;
        if (mine === queue) flush();
      };
    },
  };
}
