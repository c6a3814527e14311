import type { IPublishPacket, MqttClient } from 'mqtt';
import { IdempotencyCache } from '../infer/idempotency.ts';
import {
  routeMqttRequest,
  type MqttAnswer,
  type MqttRequestHandlerOptions,
} from '../mqtt/request-handler.ts';
import { DEFAULT_SHARE_GROUP, ingressFilters } from '../mqtt/topics.ts';
import { mqttConsumer, type MqttConsumerOptions } from './mqtt-consumer.ts';

export { DEFAULT_MAX_IN_FLIGHT, DEFAULT_SESSION_EXPIRY_S } from './mqtt-consumer.ts';

export interface MqttIngressOptions
  extends MqttRequestHandlerOptions, Omit<MqttConsumerOptions, 'name' | 'log'> {
  /** Shared-subscription group (instances split the load); false for a broker without `$share` (aedes). */
  shareGroup?: string | false;
}

export interface MqttIngress {
  clientId: string;
  /** Whether the broker connection is up now. */
  readonly connected: boolean;
  /** Messages being handled now. */
  readonly inFlight: number;
  /**
   * Stops taking requests, answers those in progress (bounded), then disconnects cleanly. The broker
   * keeps the session, so requests keep queueing for this client id until it comes back (a restart).
   * `endSession` is for an instance removed for good: a broker such as Mosquitto keeps handing an
   * absent member of a shared group its share of requests, so its session must end.
   */
  close(options?: { endSession?: boolean }): Promise<void>;
  /** Drops the connection without DISCONNECT, as a crash would (unacknowledged requests stay queued). */
  abort(): void;
}

const DEDUPE_WINDOW_MS = 10 * 60_000;
const DEDUPE_MAX_ENTRIES = 10_000;

/**
 * The gateway's MQTT ingress: subscribes (shared, QoS 1, persistent session) to the request topics,
 * answers each request through the same `InferService` as HTTP, and acknowledges it only once the
 * answer is published. A duplicate (same client and request id, e.g. a redelivery) is answered once.
 */
export async function startMqttIngress(options: MqttIngressOptions): Promise<MqttIngress> {
  const log = options.log ?? (() => {});
  const shareGroup = options.shareGroup === undefined ? DEFAULT_SHARE_GROUP : options.shareGroup;
  const consumer = mqttConsumer({ ...options, name: 'mqtt ingress', log });
  const { client, v5 } = consumer;
  const answered = new IdempotencyCache<void>({ windowMs: DEDUPE_WINDOW_MS, maxEntries: DEDUPE_MAX_ENTRIES });

  const publish = (answer: MqttAnswer, ack: () => void) =>
    answerThenAck({
      client,
      topic: answer.topic,
      // A view of the answer's own bytes (made for this answer, never changed after), not a copy.
      payload: Buffer.from(answer.payload.buffer, answer.payload.byteOffset, answer.payload.byteLength),
      properties: v5
        ? {
            contentType: 'application/json',
            payloadFormatIndicator: true,
            userProperties: answer.userProperties,
            ...(answer.correlationData ? { correlationData: Buffer.from(answer.correlationData) } : {}),
          }
        : undefined,
      ack,
    });

  const onRequest = async (packet: IPublishPacket, ack: () => void): Promise<void> => {
    const routed = routeMqttRequest(
      {
        topic: packet.topic,
        payload: packet.payload as Buffer,
        ...(packet.properties?.responseTopic !== undefined
          ? { responseTopic: packet.properties.responseTopic }
          : {}),
        ...(packet.properties?.correlationData ? { correlationData: packet.properties.correlationData } : {}),
        ...(packet.properties?.userProperties ? { userProperties: packet.properties.userProperties } : {}),
      },
      options,
    );
    if (!routed) return;
    const run = async () => publish(await routed.answer(), ack);
    if (routed.requestId === undefined) return run();
    const { replayed } = await answered.run(`${routed.clientId}\u0000${routed.requestId}`, run);
    if (replayed)
      log({
        level: 'info',
        msg: 'mqtt ingress: duplicate request answered once',
        clientId: routed.clientId,
        requestId: routed.requestId,
      });
  };

  await consumer.start({ filters: ingressFilters(shareGroup || undefined), handle: onRequest });
  return {
    clientId: options.clientId,
    get connected() {
      return consumer.connected;
    },
    get inFlight() {
      return consumer.inFlight;
    },
    close: consumer.close,
    abort: consumer.abort,
  };
}

/**
 * Publishes an answer (QoS 1) and acknowledges its request right behind it, on the same connection:
 * the PUBACK goes out in the same write as the answer (one syscall and one broker read instead of
 * two, and no wait for the broker's PUBACK of the answer). TCP and the broker keep a connection's
 * order, so the broker holds the answer before it sees the request acknowledged: a gateway that dies
 * between the two has written neither or the answer first (the request is then redelivered and
 * answered again, as before). Resolves once the broker has acknowledged the answer, rejects if it
 * refuses it (the request is acknowledged either way: redelivery cannot help a refusal).
 */
export function answerThenAck(a: {
  client: MqttClient;
  topic: string;
  payload: Buffer;
  properties: IPublishPacket['properties'];
  ack: () => void;
}): Promise<void> {
  return new Promise((resolve, reject) => {
    let stored = false;
    a.client.publish(
      a.topic,
      a.payload,
      {
        qos: 1,
        ...(a.properties ? { properties: a.properties } : {}),
        cbStorePut: () => {
          stored = true;
        },
      },
      (err) => (err ? reject(err) : resolve()),
    );
    // Connected and not replaying its store after a reconnect, mqtt.js stores a QoS 1 PUBLISH and
    // writes it in this same call (`cbStorePut` comes just before the write). Otherwise the answer is
    // only queued: the request stays unacknowledged until the broker has the answer (the consumer
    // acknowledges when the returned promise settles).
    if (stored && a.client.connected) a.ack();
  });
}
