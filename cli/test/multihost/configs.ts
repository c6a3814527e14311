import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LatLng } from '@hexedge/protocol';
import { runHexedge } from './hosts.ts';

/**
 * The operators' config files for the multi-host test, written as cli/examples/*.yaml describe them
 * (every value here is a documented key), and the broker's files from `hexedge broker …` itself.
 */
export const PORTS = { gateway: 8787, oracle: 8790, node: 8080, broker: 1883 } as const;
export const ADMIN_KEY = 'multihost-admin-key-0123456789abcdef';
export const GATEWAY_MQTT_PASSWORD = 'multihost-gateway-mqtt-secret';
export const DEVICE = { id: 'sensor-monza-1', password: 'multihost-device-secret' } as const;
export const MODEL = { name: 'comfort-index', version: '1' } as const;
/** Nodes heartbeat this often (the gateway tells them): a cut host is unhealthy after 3 intervals. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/**
 * Latency challenges this often: longer than undici's 4 s keep-alive, so, as with production's 60 s,
 * every challenge finds its connection closed and has to open a new one.
 */
export const CHALLENGE_INTERVAL_MS = 5_000;

export function gatewayYaml(o: {
  address: string;
  dataDir: string;
  modelsDir: string;
  brokerUrl: string;
  oracleUrl: string;
  oracleId: string;
  extra?: string[];
}): string {
  return [
    `host: ${o.address}`,
    `port: ${PORTS.gateway}`,
    `dataDir: ${JSON.stringify(o.dataDir)}`,
    `modelsDir: ${JSON.stringify(o.modelsDir)}`,
    `heartbeatIntervalMs: ${HEARTBEAT_INTERVAL_MS}`,
    // Every host has its own place and real round trips: locations are the oracle's to verify.
    'assumeLocationsVerified: false',
    // The emulated hosts are on 10.201.0.0/16, a private network: allowed here on purpose.
    'allowPrivateNodeAddresses: true',
    'mqtt:',
    `  url: ${o.brokerUrl}`,
    '  clientId: hexedge-gateway-1',
    '  username: hexedge-gateway',
    '  protocolVersion: 5',
    '  shared: true',
    'oracle:',
    `  url: ${o.oracleUrl}`,
    '  oracleIds:',
    `    - ${o.oracleId}`,
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

export function oracleYaml(o: {
  address: string;
  dataDir: string;
  gatewayUrl: string;
  location: LatLng;
  verifiedWithinKm: number;
  /** The operator's anchors: nodes at surveyed places, trusted as challengers from the start. */
  anchors: Array<{ nodeId: string; location: LatLng }>;
}): string {
  return [
    `host: ${o.address}`,
    `port: ${PORTS.oracle}`,
    `dataDir: ${JSON.stringify(o.dataDir)}`,
    `gatewayUrls: [${o.gatewayUrl}]`,
    'gatewayReporterIds: []',
    // A new network has no verifiers (standing needs a verified location, which needs challengers):
    // the operator's anchors and the oracle's own probe verify the first claims.
    'anchors:',
    ...o.anchors.map((a) => `  - { nodeId: ${a.nodeId}, location: { lat: ${a.location.lat}, lng: ${a.location.lng} } }`),
    // Where the oracle really runs: it is one of the challengers, timing from here.
    `location: { lat: ${o.location.lat}, lng: ${o.location.lng} }`,
    `challengeIntervalMs: ${CHALLENGE_INTERVAL_MS}`,
    'challengersPerNode: 5',
    'challengeTimeoutMs: 2000',
    'directoryRefreshMs: 1000',
    'trustPushIntervalMs: 500',
    'fullTrustPushIntervalMs: 2000',
    'exportIntervalMs: 0',
    'oracle:',
    '  scoreIntervalMs: 500',
    // This world's precision (world.ts, verifiedWithinKmFor): the default 250 km needs a challenger within ~25 km here.
    `  verifiedWithinKm: ${o.verifiedWithinKm}`,
    // A young 7-node network with one verifier near each claim: one tight challenger verifies. The
    // production default is 2, so that one colluding verifier cannot vouch for a far-off claim; a
    // network this small cannot give two (SECURITY.md, "Adversary simulation").
    '  minTightChallengers: 1',
    '  idleMs: 50',
    '',
  ].join('\n');
}

/**
 * `hexedge node init` wrote node.yaml; the operator then sets the address the node serves on, the
 * oracle whose probes it answers as a challenger, and the model it should pull from the gateway.
 */
export async function configureNode(o: {
  dataDir: string;
  address: string;
  oracleId: string;
}): Promise<void> {
  const file = path.join(o.dataDir, 'node.yaml');
  const text = await readFile(file, 'utf8');
  if (!/^host: 127\.0\.0\.1$/m.test(text)) throw new Error(`${file}: no "host: 127.0.0.1" line to replace`);
  await writeFile(
    file,
    `${text.replace(/^host: 127\.0\.0\.1$/m, `host: ${o.address}`)}\noracleIds:\n  - ${o.oracleId}\nmodels:\n  - ${MODEL.name}@${MODEL.version}\n`,
  );
}

/**
 * The device's credentials (`hexedge broker device add`, into the gateway's devices.json) and
 * Mosquitto's files (`hexedge broker acl`), then what the command tells root to do: give the
 * password file to group mosquitto, which Mosquitto drops to.
 */
export async function writeBrokerFiles(o: {
  dir: string;
  gatewayDataDir: string;
  address: string;
}): Promise<string> {
  const devices = path.join(o.gatewayDataDir, 'devices.json');
  await runHexedge([
    'broker',
    'device',
    'add',
    DEVICE.id,
    '--password',
    DEVICE.password,
    '--models',
    MODEL.name,
    '--devices',
    devices,
  ]);
  const out = await runHexedge([
    'broker',
    'acl',
    '--out',
    o.dir,
    '--devices',
    devices,
    '--gateway-password',
    GATEWAY_MQTT_PASSWORD,
    '--host',
    o.address,
    '--port',
    String(PORTS.broker),
    // As root Mosquitto would drop to user `mosquitto`, which cannot read the test's private folder.
    '--run-as',
    os.userInfo().username,
  ]);
  if (!out.includes('hexedge.conf'))
    throw new Error(`hexedge broker acl did not write hexedge.conf:\n${out}`);
  return path.join(o.dir, 'hexedge.conf');
}
