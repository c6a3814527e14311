// Node-only parts of the gateway: the deployable's builder and the adapters it composes (SQLite key
// store, pooled node client, embedded broker, MQTT ingresses, Mosquitto files).
// Node-only parts of the gateway: the pooled HTTP client for nodes, the embedded MQTT broker for
// `hexedge dev`, the MQTT ingress client, the ChirpStack ingress and the Mosquitto file writer.
export {
  BRIDGE_SHARE_GROUP,
  type ChirpstackIngress,
  startChirpstackIngress,
} from '../adapters/chirpstack-ingress.ts';
export { FileDeviceStore } from '../adapters/device-file-store.ts';
export { findDynsecPlugin, writeMosquittoFiles } from '../adapters/mosquitto-writer.ts';
export { type EmbeddedBroker, startEmbeddedBroker } from '../adapters/mqtt-broker.ts';
export { DEFAULT_MAX_IN_FLIGHT, type MqttIngress, startMqttIngress } from '../adapters/mqtt-ingress.ts';
export { connectMqttPublisher } from '../adapters/mqtt-publisher.ts';
export { PooledNodeClient } from '../adapters/pooled-node-client.ts';
export { CoalescingNodeClient, DEFAULT_MAX_IN_FLIGHT_PER_NODE } from '../adapters/coalescing-node-client.ts';
export { buildGateway, REPORT_KEY_FILE, type RunningGateway } from './build-gateway.ts';
export { dirAssets } from './dir-assets.ts';
export { gatewayRequestListener, listenGateway } from './infer-listener.ts';
export { readOriginCatalog } from './origin-catalog.ts';
