export { decodeLpp, encodeLpp } from './codecs/lpp.ts';
export { type BinaryField, binaryFieldSchema, decodeBinary, encodeBinary } from './codecs/binary-schema.ts';
export { JsCodec } from './codecs/js-codec.ts';
export { BRIDGE_SUBSCRIPTIONS } from './chirpstack/topics.ts';
export { type Device, type Profile, type ProfileInput } from './registry/profile-schema.ts';
export { type DeviceStore } from './registry/device-store.ts';
export { DeviceRegistry } from './registry/device-registry.ts';
export { type InferAnswer } from './mapping/answer.ts';
export {
  type BridgeInferRequest,
  type BridgeLogger,
  type CoverageEvidence,
  type MessageOutcome,
  type PublishOptions,
  type ResultMessage,
} from './bridge/messages.ts';
export { FirmwareBridge, type FirmwareBridgeOptions } from './bridge/firmware-bridge.ts';
export { DEMO_DEVICES, DEMO_FLEET, demoFleetFile } from './simulator/demo-fleet.ts';
export { chirpstackUplinkJson } from './simulator/uplink-event.ts';
export { DeviceSimulator, ROOM_INTERVAL_MS } from './simulator/device-simulator.ts';
