// Node-only parts of the gateway: the deployable's builder and the adapters it composes (SQLite key
// store, pooled node client, embedded broker, MQTT ingresses, Mosquitto files).
export * from '../adapters/node.ts';
export { buildGateway, REPORT_KEY_FILE, type RunningGateway } from './build-gateway.ts';
export { dirAssets } from './dir-assets.ts';
export { readOriginCatalog } from './origin-catalog.ts';
