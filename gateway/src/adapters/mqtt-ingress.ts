import { reconnectWithBackoff, resubscribeOnReconnect } from './mqtt-resilience.ts';
import mqtt, { type IPublishPacket } from 'mqtt';
import { IdempotencyCache } from '../infer/idempotency.ts';
import { MAX_MQTT_PACKET_BYTES } from '../mqtt/mosquitto-files.ts';
import { routeMqttRequest, type MqttAnswer, type MqttRequestHandlerOptions } from '../mqtt/request-handler.ts';
import { DEFAULT_SHARE_GROUP, ingressFilters } from '../mqtt/topics.ts';
import { deferPubacks } from './mqtt-deferred-ack.ts';

export interface MqttIngressOptions extends MqttRequestHandlerOptions {
  /** `mqtt://host:port` (or `mqtts://`): the embedded broker, Mosquitto, EMQX… */
  url: string;
  /** Fixed per gateway instance, so its persistent session (and queued requests) survive a restart. */
  clientId: string;
  username?: string;
  /** An admin API key on the embedded broker; the gateway user's password on Mosquitto. */
  password?: string;
  /** 5 (default) answers v5 and v3.1.1 clients; 4 for brokers without v5, such as aedes. */
  protocolVersion?: 4 | 5;
  /** Shared-subscription group (instances split the load); false for a broker without `$share` (aedes). */
  shareGroup?: string | false;
  /** How long the broker keeps the session (and queues requests) while the gateway is away. */
  sessionExpirySeconds?: number;
  /** Requests answered at once; more wait at the broker (v5 Receive Maximum) or in the socket. */
  maxInFlight?: number;
  /** How long `close()` waits for requests in progress to be answered. */
  drainTimeoutMs?: number;
}

export interface MqttIngress {
  clientId: string;
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

export const DEFAULT_SESSION_EXPIRY_S = 24 * 60 * 60;
export const DEFAULT_MAX_IN_FLIGHT = 64;
const DEDUPE_WINDOW_MS = 10 * 60_000;
const DEDUPE_MAX_ENTRIES = 10_000;

/**
 * The gateway's MQTT ingress: subscribes (shared, QoS 1, persistent session) to the request topics,
 * answers each request through the same `InferService` as HTTP, and acknowledges it only once the
 * answer is published. A duplicate (same client and request id, e.g. a redelivery) is answered once.
 */
export async function startMqttIngress(options: MqttIngressOptions): Promise<MqttIngress> {
  const log = options.log ?? (() => {});
  const v5 = (options.protocolVersion ?? 5) === 5;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const shareGroup = options.shareGroup === undefined ? DEFAULT_SHARE_GROUP : options.shareGroup;
  const client = mqtt.connect(options.url, {
    clientId: options.clientId,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    protocolVersion: v5 ? 5 : 4,
    clean: false,
    ...(v5 ? { properties: { sessionExpiryInterval: options.sessionExpirySeconds ?? DEFAULT_SESSION_EXPIRY_S, receiveMaximum: maxInFlight, maximumPacketSize: MAX_MQTT_PACKET_BYTES } } : {}),
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
    manualConnect: true,
  });
  // Without TCP_NODELAY a QoS 1 round trip waits on Nagle + delayed ACK (~40–90 ms instead of <1 ms).
  client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
  client.on('error', (err) => log({ level: 'warn', msg: `mqtt ingress: ${err.message}` }));

  const acks = deferPubacks(client);
  const answered = new IdempotencyCache<void>({ windowMs: DEDUPE_WINDOW_MS, maxEntries: DEDUPE_MAX_ENTRIES });
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const publish = async (answer: MqttAnswer) => {
    await client.publishAsync(answer.topic, Buffer.from(answer.payload), {
      qos: 1,
      ...(v5
        ? { properties: { contentType: 'application/json', payloadFormatIndicator: true, userProperties: answer.userProperties, ...(answer.correlationData ? { correlationData: Buffer.from(answer.correlationData) } : {}) } }
        : {}),
    });
  };

  const onRequest = async (packet: IPublishPacket): Promise<void> => {
    const routed = routeMqttRequest(
      {
        topic: packet.topic,
        payload: packet.payload as Buffer,
        ...(packet.properties?.responseTopic !== undefined ? { responseTopic: packet.properties.responseTopic } : {}),
        ...(packet.properties?.correlationData ? { correlationData: packet.properties.correlationData } : {}),
      },
      options,
    );
    if (!routed) return;
    const run = async () => publish(await routed.answer());
    if (routed.requestId === undefined) return run();
    const { replayed } = await answered.run(`${routed.clientId}\u0000${routed.requestId}`, run);
    if (replayed) log({ level: 'info', msg: 'mqtt ingress: duplicate request answered once', clientId: routed.clientId, requestId: routed.requestId });
  };

  client.handleMessage = (packet, done) => {
    if (closing) return; // neither answered nor acknowledged: the broker keeps it for the next instance
    const release = packet.qos > 0 && packet.messageId !== undefined ? acks.hold(packet.messageId) : () => {};
    const work = onRequest(packet).then(release, (err: Error) => {
      // Still connected: the answer was refused (not a lost connection), so redelivery cannot help.
      log({ level: 'warn', msg: `mqtt ingress: answer not published: ${err.message}`, topic: packet.topic.slice(0, 256) });
      if (client.connected) release();
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    // Backpressure: past maxInFlight the next message waits until one is answered.
    if (inFlight.size < maxInFlight) done();
    else void Promise.race(inFlight).then(() => done());
  };

  reconnectWithBackoff(client);
  client.connect();
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => (client.end(true), reject(err));
    client.once('error', onError);
    client.once('connect', () => (client.off('error', onError), resolve()));
  });
  const filters = ingressFilters(shareGroup || undefined);
  const granted = await client.subscribeAsync(filters, { qos: 1 });
  const refused = granted.filter((g) => g.qos !== 1 && g.qos !== 0);
  if (refused.length > 0) {
    client.end(true);
    throw new Error(`MQTT broker refused the ingress subscription to ${refused.map((g) => g.topic).join(', ')} (reason ${refused[0]!.qos})`);
  }
  log({ level: 'info', msg: `mqtt ingress ${options.clientId} subscribed to ${filters.join(', ')}` });
  resubscribeOnReconnect({ client, filters, log });

  return {
    clientId: options.clientId,
    async close(how = {}) {
      if (client.disconnecting || client.disconnected) return;
      if (how.endSession && client.connected) await client.unsubscribeAsync(filters).catch(() => {});
      closing = true;
      const drained = Promise.allSettled([...inFlight]);
      await Promise.race([drained, new Promise((r) => setTimeout(r, options.drainTimeoutMs ?? 5_000).unref())]);
      // MQTT v5 §3.14.2.2.2: a DISCONNECT may shorten the session expiry to 0, ending the session.
      await client.endAsync(false, how.endSession && v5 ? { properties: { sessionExpiryInterval: 0 } } : {});
    },
    abort() {
      closing = true;
      client.end(true);
    },
  };
}
