// Node-only parts of the gateway: the embedded MQTT broker for `hexedge dev` (the MQTT ingress joins
// it with the gateway issue).
export * from './mqtt-broker.ts';
