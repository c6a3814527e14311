import { BRIDGE_SUBSCRIPTIONS, type FirmwareBridge, type MessageOutcome } from '@hexedge/firmware-bridge';
import { reconnectWithBackoff, resubscribeOnReconnect } from './mqtt-resilience.ts';
import mqtt, { type IPublishPacket } from 'mqtt';
import { createGatewayBridge, type GatewayBridgeOptions } from '../bridge/gateway-bridge.ts';
import { MAX_MQTT_PACKET_BYTES } from '../mqtt/mosquitto-files.ts';
import { deferPubacks } from './mqtt-deferred-ack.ts';
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_SESSION_EXPIRY_S } from './mqtt-ingress.ts';

/** The share group to use when several gateways split the ChirpStack integration (see `shareGroup`). */
export const BRIDGE_SHARE_GROUP = 'hexedge-bridge';

export interface ChirpstackIngressOptions extends Omit<GatewayBridgeOptions, 'publish'> {
  /** The broker ChirpStack's MQTT integration publishes to (Mosquitto in production, aedes in `hexedge dev`). */
  url: string;
  /** Fixed per gateway, so its persistent session (and the uplinks queued while it is away) survive a restart. */
  clientId: string;
  username?: string;
  password?: string;
  /** 5 (default) for Mosquitto/EMQX; 4 for aedes. */
  protocolVersion?: 4 | 5;
  /**
   * Off by default: the bridge keeps per-device state in this process (deduplication ids, the last
   * fCnt, sliding windows, fragment assembly), and a shared subscription spreads one device's uplinks
   * over every member, so windows would never fill and duplicates would be inferred twice. One gateway
   * owns the ChirpStack integration, as a ChirpStack integration usually has one consumer. Pass
   * `BRIDGE_SHARE_GROUP` only for stateless profiles (no windows), on a broker with `$share` (Mosquitto).
   */
  shareGroup?: string | false;
  sessionExpirySeconds?: number;
  maxInFlight?: number;
  drainTimeoutMs?: number;
  /** Every message's outcome (results, duplicates, errors such as an unknown device): for logs and tests. */
  onOutcome?: (topic: string, outcome: MessageOutcome) => void;
}

export interface ChirpstackIngress {
  clientId: string;
  bridge: FirmwareBridge;
  filters: readonly string[];
  /** Stops taking uplinks, finishes those in progress (bounded), disconnects; `endSession` drops the queued ones. */
  close(options?: { endSession?: boolean }): Promise<void>;
  abort(): void;
}

/**
 * The firmware bridge on MQTT: subscribes (QoS 1, persistent session) to ChirpStack's device events
 * and `hexedge/v1/uplink/+`, hands each message to the bridge and publishes what it answers
 * (downlink commands, results, errors). An uplink is acknowledged only once the bridge is done with
 * it, so one in progress when the gateway dies is redelivered (and deduplicated) after the restart.
 */
export async function startChirpstackIngress(options: ChirpstackIngressOptions): Promise<ChirpstackIngress> {
  const log = options.log ?? (() => {});
  const v5 = (options.protocolVersion ?? 5) === 5;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
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
  // Nagle + delayed ACK would add ~40 ms to each QoS 1 exchange, and a Class A downlink has to reach
  // ChirpStack before the device's RX1 window (1 s after its uplink).
  client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
  client.on('error', (err) => log({ level: 'warn', msg: `chirpstack ingress: ${err.message}` }));

  const bridge = createGatewayBridge({
    ...options,
    publish: async (topic, payload, how) => {
      await client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: how.qos, retain: how.retain });
    },
  });

  const acks = deferPubacks(client);
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  client.handleMessage = (packet: IPublishPacket, done) => {
    if (closing) return; // not acknowledged: the broker keeps it for the restarted gateway
    const release = packet.qos > 0 && packet.messageId !== undefined ? acks.hold(packet.messageId) : () => {};
    const payload = typeof packet.payload === 'string' ? new TextEncoder().encode(packet.payload) : new Uint8Array(packet.payload);
    // Handed over in arrival order: the bridge judges duplicates and fCnt before its first await.
    const work = bridge.handleMessage(packet.topic, payload).then(
      (outcome) => {
        if (outcome.status === 'error') log({ level: 'warn', msg: `chirpstack ingress: ${outcome.error.code}: ${outcome.error.message}`, topic: packet.topic.slice(0, 256) });
        options.onOutcome?.(packet.topic, outcome);
        release();
      },
      (err: Error) => {
        // Publishing the answer failed while connected: redelivery would fail the same way.
        log({ level: 'warn', msg: `chirpstack ingress: ${err.message}`, topic: packet.topic.slice(0, 256) });
        if (client.connected) release();
      },
    );
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
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
  const group = options.shareGroup ?? false;
  const filters = BRIDGE_SUBSCRIPTIONS.map((f) => (group ? `$share/${group}/${f}` : f));
  const granted = await client.subscribeAsync([...filters], { qos: 1 });
  const refused = granted.filter((g) => g.qos !== 1 && g.qos !== 0);
  if (refused.length > 0) {
    client.end(true);
    throw new Error(`MQTT broker refused the ChirpStack ingress subscription to ${refused.map((g) => g.topic).join(', ')} (reason ${refused[0]!.qos}); its login needs read access to application/# and hexedge/v1/uplink/+`);
  }
  log({ level: 'info', msg: `chirpstack ingress ${options.clientId} subscribed to ${filters.join(', ')}` });
  resubscribeOnReconnect({ client, filters: [...filters], log });

  return {
    clientId: options.clientId,
    bridge,
    filters,
    async close(how = {}) {
      if (client.disconnecting || client.disconnected) return;
      if (how.endSession && client.connected) await client.unsubscribeAsync([...filters]).catch(() => {});
      closing = true;
      const drained = Promise.allSettled([...inFlight]);
      await Promise.race([drained, new Promise((r) => setTimeout(r, options.drainTimeoutMs ?? 5_000).unref())]);
      await client.endAsync(false, how.endSession && v5 ? { properties: { sessionExpiryInterval: 0 } } : {});
    },
    abort() {
      closing = true;
      client.end(true);
    },
  };
}
