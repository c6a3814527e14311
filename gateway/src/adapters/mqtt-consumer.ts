import mqtt, { MqttClient, type IClientOptions, type IPublishPacket } from 'mqtt';
import type { Duplex } from 'node:stream';
import { MAX_MQTT_PACKET_BYTES } from '../mqtt/mosquitto-files.ts';
import { deferPubacks } from './mqtt-deferred-ack.ts';
import { reconnectWithBackoff, resubscribeOnReconnect } from './mqtt-resilience.ts';

export const DEFAULT_SESSION_EXPIRY_S = 24 * 60 * 60;
export const DEFAULT_MAX_IN_FLIGHT = 64;

export interface MqttConsumerOptions {
  /** `mqtt://host:port` (or `mqtts://`): the embedded broker, Mosquitto, EMQX… */
  url: string;
  /**
   * Opens the connection instead of dialling `url` (again on every reconnect): the embedded broker's
   * in-process `connect`, for the gateway that hosts it.
   */
  connectStream?: () => Duplex;
  /** Fixed per gateway instance, so its persistent session (and what queued while away) survives a restart. */
  clientId: string;
  username?: string;
  password?: string;
  /** 5 (default) for Mosquitto/EMQX; 4 for brokers without v5, such as aedes. */
  protocolVersion?: 4 | 5;
  /** How long the broker keeps the session (and queues messages) while the gateway is away. */
  sessionExpirySeconds?: number;
  /** Messages handled at once; more wait at the broker (v5 Receive Maximum) or in the socket. */
  maxInFlight?: number;
  /** How long `close()` waits for messages in progress. */
  drainTimeoutMs?: number;
  /** Names this consumer in log lines and errors ("mqtt ingress", "chirpstack ingress"). */
  name: string;
  log: (entry: Record<string, unknown>) => void;
}

export interface MqttConsumer {
  /** The client, to publish with; created at once, connected by `start`. */
  readonly client: MqttClient;
  readonly v5: boolean;
  /** Whether the broker connection is up now (readiness reports it). */
  readonly connected: boolean;
  /** Messages being handled now (held unacknowledged until answered). */
  readonly inFlight: number;
  /**
   * Connects, subscribes (QoS 1) and hands every message to `handle`. A message is acknowledged only
   * once `handle` settles, so one in progress when the gateway dies is redelivered after a restart.
   * `handle` may acknowledge earlier with `ack()`, right after it has written the message's outcome to
   * this same connection: the PUBACK then follows the outcome on the wire (see `answerThenAck`).
   */
  start(options: {
    filters: readonly string[];
    handle: (packet: IPublishPacket, ack: () => void) => Promise<void>;
    refusedHint?: string;
  }): Promise<void>;
  /** Stops taking messages, finishes those in progress (bounded), disconnects; `endSession` drops the queued ones. */
  close(how?: { endSession?: boolean }): Promise<void>;
  abort(): void;
}

/**
 * The one way the gateway consumes MQTT (the request ingress and the ChirpStack ingress): a persistent
 * session with TCP no-delay, acknowledgements held until a message is handled, bounded concurrency,
 * reconnects with backoff and re-subscription, and a draining close.
 */
export function mqttConsumer(options: MqttConsumerOptions): MqttConsumer {
  const { log, name } = options;
  const v5 = (options.protocolVersion ?? 5) === 5;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    protocolVersion: v5 ? 5 : 4,
    clean: false,
    ...(v5
      ? {
          properties: {
            sessionExpiryInterval: options.sessionExpirySeconds ?? DEFAULT_SESSION_EXPIRY_S,
            receiveMaximum: maxInFlight,
            maximumPacketSize: MAX_MQTT_PACKET_BYTES,
          },
        }
      : {}),
    connectTimeout: 10_000,
    manualConnect: true,
    // mqtt.js re-arms its keepalive timer on every packet sent by default (~2 % of the gateway's CPU
    // under MQTT load, profiled); a PINGREQ once per keepalive interval while busy costs nothing.
    reschedulePings: false,
  };
  const { connectStream } = options;
  const client = connectStream
    ? new MqttClient(() => connectStream(), clientOptions)
    : mqtt.connect(options.url, clientOptions);
  // Without TCP_NODELAY a QoS 1 round trip waits on Nagle + delayed ACK (~40–90 ms instead of <1 ms),
  // and a Class A downlink has to reach ChirpStack before the device's RX1 window (1 s).
  client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
  client.on('error', (err) => log({ level: 'warn', msg: `${name}: ${err.message}` }));

  const acks = deferPubacks(client);
  const inFlight = new Set<Promise<void>>();
  const waiting: IPublishPacket[] = [];
  let closing = false;
  let filters: readonly string[] = [];

  return {
    client,
    v5,
    get connected() {
      return client.connected && !closing;
    },
    get inFlight() {
      return inFlight.size + waiting.length;
    },
    async start(s) {
      // At most maxInFlight messages are handled at once; the rest wait here, unacknowledged. mqtt.js
      // is never kept waiting (`done` at once): it reads PUBACKs for our own answers from the same
      // stream, so holding its next packet until a handler finishes deadlocks as soon as more than
      // maxInFlight arrive — which a restored session does (what was in flight at a crash is resent on
      // top of the Receive Maximum window). The broker keeps the unacknowledged ones, so this queue is
      // bounded by its session limits (Mosquitto: max_queued_messages, 1000 by default).
      const run = (packet: IPublishPacket) => {
        const release =
          packet.qos > 0 && packet.messageId !== undefined ? acks.hold(packet.messageId) : () => {};
        const work = s.handle(packet, release).then(release, (err: Error) => {
          // Still connected: the answer was refused (not a lost connection), so redelivery cannot help.
          log({ level: 'warn', msg: `${name}: ${err.message}`, topic: packet.topic.slice(0, 256) });
          if (client.connected) release();
        });
        inFlight.add(work);
        void work.finally(() => {
          inFlight.delete(work);
          const next = waiting.shift();
          if (next && !closing) run(next);
        });
      };
      // Waiting messages of a lost connection are the broker's again: it redelivers them after the reconnect.
      client.on('close', () => void waiting.splice(0));
      client.handleMessage = (packet, done) => {
        if (closing) return; // not acknowledged: the broker keeps it for the next instance
        if (inFlight.size < maxInFlight) run(packet);
        else waiting.push(packet);
        done();
      };
      reconnectWithBackoff(client);
      client.connect();
      const sessionPresent = await new Promise<boolean>((resolve, reject) => {
        const onError = (err: Error) => (client.end(true), reject(err));
        client.once('error', onError);
        client.once('connect', (connack) => (client.off('error', onError), resolve(connack.sessionPresent)));
      });
      filters = s.filters;
      const subscribe = async () => {
        const granted = await client.subscribeAsync([...filters], { qos: 1 });
        const refused = granted.filter((g) => g.qos !== 1 && g.qos !== 0);
        if (refused.length > 0) {
          client.end(true);
          throw new Error(
            `MQTT broker refused the ${name} subscription to ${refused.map((g) => g.topic).join(', ')} (reason ${refused[0]!.qos})${s.refusedHint ? `; ${s.refusedHint}` : ''}`,
          );
        }
      };
      if (sessionPresent) {
        // The broker kept the session with its subscriptions and is already delivering what queued
        // while this client was away. A SUBACK would arrive behind that backlog (messages are read in
        // order, and at most maxInFlight are handled at once), so a restart into a long backlog would
        // not be ready until most of it was handled: renew the subscriptions without waiting on them.
        void subscribe().catch((err: Error) => log({ level: 'error', msg: `${name}: ${err.message}` }));
      } else {
        await subscribe();
      }
      log({ level: 'info', msg: `${name} ${options.clientId} subscribed to ${filters.join(', ')}` });
      resubscribeOnReconnect({ client, filters, log });
    },
    async close(how = {}) {
      if (client.disconnecting || client.disconnected) return;
      if (how.endSession && client.connected) await client.unsubscribeAsync([...filters]).catch(() => {});
      closing = true;
      const drained = Promise.allSettled([...inFlight]);
      await Promise.race([
        drained,
        new Promise((r) => setTimeout(r, options.drainTimeoutMs ?? 5_000).unref()),
      ]);
      // MQTT v5 §3.14.2.2.2: a DISCONNECT may shorten the session expiry to 0, ending the session.
      await client.endAsync(false, how.endSession && v5 ? { properties: { sessionExpiryInterval: 0 } } : {});
    },
    abort() {
      closing = true;
      client.end(true);
    },
  };
}
