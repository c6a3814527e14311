// Node-only parts of the gateway: the pooled HTTP client for nodes, the embedded MQTT broker for
// `hexedge dev`, the MQTT ingress client, the ChirpStack ingress and the Mosquitto file writer.
export * from './chirpstack-ingress.ts';
export * from './device-file-store.ts';
export * from './mosquitto-writer.ts';
export * from './mqtt-broker.ts';
export * from './mqtt-ingress.ts';
export * from './mqtt-publisher.ts';
export * from './pooled-node-client.ts';
export * from './sqlite-key-store.ts';
export * from './node-hash.ts';
