// Shared test helpers (tests only): one copy of each, imported by every package's tests.
export { type DevProcess, HEXEDGE_BIN, OTEL_FILE_EXPORT, startDev, startHexedge } from './hexedge.ts';
export { startMosquitto } from './mosquitto.ts';
export { startAclBroker } from './acl-broker.ts';
export { inbox, mqttClient, type Received } from './mqtt.ts';
export { freePort, portOpen } from './ports.ts';
export {
  descendantsOf,
  isAlive,
  START_TIMEOUT_MS,
  startProcess,
  syscallsOf,
  type Proc,
} from './processes.ts';
export {
  findPart,
  optedOut,
  recordSkip,
  requirePart,
  SKIP_ENV,
  SKIPPED_FILE,
  type RealPart,
} from './real-parts.ts';
export { sleep, waitUntil } from './wait.ts';
export {
  hexedge,
  initNode,
  startGatewayProcess,
  startNodeProcess,
  startOracleProcess,
  writeConfig,
  type GatewayProcess,
  type NodeProcess,
  type OracleProcess,
} from './deployables.ts';
