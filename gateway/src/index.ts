export { createGatewayApp } from './app.ts';
export { MAX_ADMIN_BODY_BYTES } from './app/admin-wiring.ts';
export { MAX_NODE_MESSAGE_BYTES } from './app/node-wiring.ts';
export { DEFAULT_DEADLINE_MS, walkFailoverList } from './infer/failover-walk.ts';
export { NodeFault } from './infer/forward.ts';
export { InferService } from './infer/infer-service.ts';
export { ATTEMPT_TIMEOUT_FLOOR_MS, LatencyTracker } from './infer/latency-tracker.ts';
export { type NodeAnswer, type NodeClient } from './infer/node-client.ts';
export { checkReceipt } from './infer/receipt-check.ts';
export { type WalkClock } from './infer/walk-clock.ts';
export { KeyRing } from './keys/key-ring.ts';
export { type ApiKeyRecord, MemoryKeyStore } from './keys/key-store.ts';
export { RateLimiter } from './keys/rate-limit.ts';
export { BrokerAccess, type MqttPrincipal } from './mqtt/access.ts';
export {
  DeviceCredentials,
  type DeviceRecord,
  hashDevicePassword,
  verifyDevicePassword,
} from './mqtt/device-credentials.ts';
export { type BrokerAdminUser } from './mqtt/mosquitto-files.ts';
export {
  type MqttRequest,
  type MqttRequestHandlerOptions,
  routeMqttRequest,
} from './mqtt/request-handler.ts';
export { inferTopic, requestTopic, responseTopic } from './mqtt/topics.ts';
export { EventBus } from './events/event-bus.ts';
export { MemoryModelCatalog } from './catalog.ts';
export { RolloutManager, type RolloutView } from './rollouts/rollout-manager.ts';
export { MemoryRolloutStore } from './rollouts/rollout-store.ts';
export { type Rollout, type VersionPolicy } from './rollouts/rollout-spec.ts';
export { inCanary } from './rollouts/version-router.ts';
export { MAX_DEVICE_BODY_BYTES, MAX_PROFILE_BODY_BYTES } from './routes/devices.ts';
export type { DashboardOptions } from './routes/dashboard.ts';
export type { StaticAssets } from './routes/dashboard-assets.ts';
export type { OracleReader, OracleNodeReport } from './routes/dashboard-operator.ts';
export { applyTrustEntries, type TrustTarget } from './routes/oracle.ts';
export { ReceiptForwarder } from './oracle-forwarder.ts';
export { signReceiptReport } from './oracle-reports.ts';
export {
  ADMIN_KEY_ENV,
  ADMIN_KEY_PATTERN,
  gatewayConfigSchema,
  type GatewaySecrets,
  MQTT_PASSWORD_ENV,
} from './config.ts';
export { type CacheOutcome, DEFAULT_CACHE_LIMITS, InferCache } from './cache/infer-cache.ts';
export { TraceBook, type TraceHop, type TraceRecord } from './trace/trace-book.ts';
export { type InferHints } from './infer/infer-hints.ts';
export { gatewayKeyFromSecret } from './adapters/worker-gateway-key.ts';
