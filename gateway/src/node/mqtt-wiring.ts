// The gateway's MQTT side on Node, when configured: the request ingress and, with ChirpStack enabled,
// the firmware bridge on its topics, logged in to the configured broker or the embedded one (reached
// in process). Each reports whether it is connected (for /healthz) and what it is handling now.
import type { DeviceRegistry } from '@hexedge/firmware-bridge';
import type { Lifecycle } from '@hexedge/protocol';
import { BRIDGE_SHARE_GROUP, startChirpstackIngress } from '../adapters/chirpstack-ingress.ts';
import type { EmbeddedBroker } from '../adapters/mqtt-broker.ts';
import { startMqttIngress } from '../adapters/mqtt-ingress.ts';
import type { PartState } from '../app/options.ts';
import type { GatewayConfig, GatewaySecrets } from '../config.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { BrokerAccess } from '../mqtt/access.ts';

type Ingresses = Parameters<typeof startMqttIngress>[0];

/**
 * Starts the configured ingresses (each closed at shutdown); `parts` and `inFlight` gain an entry per
 * ingress, read by /healthz and the in-flight gauge.
 */
export async function startMqttIngresses(o: {
  mqtt: NonNullable<GatewayConfig['mqtt']>;
  secrets: GatewaySecrets;
  /** The embedded broker's URL and in-process connection, when the gateway hosts one. */
  brokerUrl: string | undefined;
  embeddedBroker: EmbeddedBroker | undefined;
  service: Ingresses['service'];
  limiter: Ingresses['limiter'];
  access: BrokerAccess;
  registry: DeviceRegistry;
  events: EventBus;
  life: Lifecycle;
  parts: Record<string, () => PartState>;
  inFlight: Record<string, () => number>;
  log: (line: string) => void;
}): Promise<void> {
  const { mqtt, secrets, embeddedBroker, service, limiter, access, life, parts, inFlight, log } = o;
  const login = {
    url: mqtt.url ?? o.brokerUrl!,
    username: mqtt.username,
    password: secrets.mqttPassword ?? secrets.adminKey,
    protocolVersion: mqtt.protocolVersion,
    // Our own broker is reached in process (MQTT as over TCP, without a loopback socket per packet).
    ...(mqtt.url === undefined && embeddedBroker ? { connectStream: embeddedBroker.connect } : {}),
  };
  const ingress = await startMqttIngress({
    ...login,
    clientId: mqtt.clientId,
    shareGroup: mqtt.shared ? undefined : false,
    service,
    limiter,
    principalOf: (clientId) => access.principalOf(clientId),
    log: (entry) => entry.level !== 'info' && log(`mqtt: ${JSON.stringify(entry)}`),
  });
  life.defer('MQTT ingress', () => ingress.close());
  parts['mqtt-ingress'] = () => (ingress.connected ? 'up' : 'down');
  inFlight['requests'] = () => ingress.inFlight;
  if (mqtt.chirpstack.enabled) {
    const bridge = await startChirpstackIngress({
      ...login,
      clientId: mqtt.chirpstack.clientId,
      shareGroup: mqtt.chirpstack.shared ? BRIDGE_SHARE_GROUP : false,
      registry: o.registry,
      service,
      limiter,
      events: o.events,
      log: (entry) => entry.level !== 'info' && log(`bridge: ${JSON.stringify(entry)}`),
    });
    life.defer('ChirpStack ingress', () => bridge.close());
    parts['chirpstack-ingress'] = () => (bridge.connected ? 'up' : 'down');
    inFlight['chirpstack'] = () => bridge.inFlight;
  }
}
