// Node-only parts of the gateway: the pooled HTTP client for nodes and the embedded MQTT broker for
// `hexedge dev`.
export * from './mqtt-broker.ts';
export * from './pooled-node-client.ts';
