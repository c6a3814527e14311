import { BRIDGE_SUBSCRIPTIONS, type FirmwareBridge, type MessageOutcome } from '@hexedge/firmware-bridge';
import type { IPublishPacket } from 'mqtt';
import { createGatewayBridge, type GatewayBridgeOptions } from '../bridge/gateway-bridge.ts';
import { mqttConsumer, type MqttConsumerOptions } from './mqtt-consumer.ts';

/** The share group to use when several gateways split the ChirpStack integration (see `shareGroup`). */
export const BRIDGE_SHARE_GROUP = 'hexedge-bridge';

export interface ChirpstackIngressOptions
  extends Omit<GatewayBridgeOptions, 'publish'>, Omit<MqttConsumerOptions, 'name' | 'log'> {
  /**
   * Off by default: the bridge keeps per-device state in this process (deduplication ids, the last
   * fCnt, sliding windows, fragment assembly), and a shared subscription spreads one device's uplinks
   * over every member, so windows would never fill and duplicates would be inferred twice. One gateway
   * owns the ChirpStack integration, as a ChirpStack integration usually has one consumer. Pass
   * `BRIDGE_SHARE_GROUP` only for stateless profiles (no windows), on a broker with `$share` (Mosquitto).
   */
  shareGroup?: string | false;
  /** Every message's outcome (results, duplicates, errors such as an unknown device): for logs and tests. */
  onOutcome?: (topic: string, outcome: MessageOutcome) => void;
}

export interface ChirpstackIngress {
  clientId: string;
  /** Whether the broker connection is up now. */
  readonly connected: boolean;
  /** Messages being handled now. */
  readonly inFlight: number;
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
  const consumer = mqttConsumer({ ...options, name: 'chirpstack ingress', log });
  const { client } = consumer;
  const bridge = createGatewayBridge({
    ...options,
    publish: async (topic, payload, how) => {
      await client.publishAsync(
        topic,
        typeof payload === 'string'
          ? payload
          : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        { qos: how.qos, retain: how.retain },
      );
    },
  });

  const handle = async (packet: IPublishPacket): Promise<void> => {
    const payload =
      typeof packet.payload === 'string'
        ? new TextEncoder().encode(packet.payload)
        : new Uint8Array(packet.payload);
    // Handed over in arrival order: the bridge judges duplicates and fCnt before its first await.
    const outcome = await bridge.handleMessage(packet.topic, payload);
    if (outcome.status === 'error')
      log({
        level: 'warn',
        msg: `chirpstack ingress: ${outcome.error.code}: ${outcome.error.message}`,
        topic: packet.topic.slice(0, 256),
      });
    options.onOutcome?.(packet.topic, outcome);
  };

  const group = options.shareGroup ?? false;
  const filters = BRIDGE_SUBSCRIPTIONS.map((f) => (group ? `$share/${group}/${f}` : f));
  await consumer.start({
    filters,
    handle,
    refusedHint: 'its login needs read access to application/# and hexedge/v1/uplink/+',
  });
  return {
    clientId: options.clientId,
    bridge,
    filters,
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
