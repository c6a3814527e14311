import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { nodeInit } from '../../src/commands/node-init.ts';
import { loadNodeKey } from '@hexedge/edge-node/node';
import { freePort, startHexedge, waitUntil, type Proc } from '@hexedge/test-kit';

export const ADMIN_KEY = 'faults-admin-key-0123456789abcdef';
export const MODEL = 'comfort-index';
/**
 * Nodes heartbeat this often in the fault suite (the gateway tells them in its ack): short, so "marked
 * unhealthy within 3 intervals" is measured in seconds, long enough that a busy 2-core CI machine
 * does not miss beats.
 */
export const HEARTBEAT_INTERVAL_MS = 500;

/** Requests come from central Amsterdam; nodes sit around it, nearest first. */
export const HERE = { lat: 52.37, lng: 4.9 };
export const NODE_PLACES = [
  { lat: 52.371, lng: 4.901 },
  { lat: 52.38, lng: 4.92 },
  { lat: 52.35, lng: 4.88 },
  { lat: 52.36, lng: 4.93 },
];

/** A scratch directory with the comfort-index model, removed by `cleanup`. */
export async function scratch(prefix: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `hexedge-fault-${prefix}-`));
  const modelsDir = path.join(dir, 'models');
  const bytes = buildComfortIndexModel();
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(bytes), bytes });
  return { dir, modelsDir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface GatewayOptions {
  dataDir: string;
  modelsDir: string;
  port: number;
  mqtt?: { url: string; clientId?: string; protocolVersion?: 4 | 5; shared?: boolean };
  oracle?: { url: string; oracleIds: string[] };
  mqttPassword?: string;
  /** HEXEDGE_ADMIN_KEY for this start; default ADMIN_KEY. */
  adminKey?: string;
  /** More top-level YAML lines (keys the scenario needs: limits, an embedded broker…). */
  extraYaml?: string[];
  /** The nodes run on this machine at 127.0.0.1: allowed unless a scenario tests the refusal (default true). */
  allowPrivateNodeAddresses?: boolean;
  /** Where the YAML config is written; default: beside the data dir. */
  configFile?: string;
}

/** `hexedge gateway --config FILE` on a fixed port, so a restarted gateway is found at the same URL. */
export async function startGatewayProcess(options: GatewayOptions): Promise<Proc & { url: string }> {
  const configFile = options.configFile ?? `${options.dataDir}.yaml`;
  const yaml = [
    'host: 127.0.0.1',
    `port: ${options.port}`,
    `dataDir: ${JSON.stringify(options.dataDir)}`,
    `modelsDir: ${JSON.stringify(options.modelsDir)}`,
    `heartbeatIntervalMs: ${HEARTBEAT_INTERVAL_MS}`,
    // Every process shares this machine: there is nothing for location proofs to measure.
    'assumeLocationsVerified: true',
    `allowPrivateNodeAddresses: ${options.allowPrivateNodeAddresses ?? true}`,
    ...(options.mqtt
      ? [
          'mqtt:',
          `  url: ${options.mqtt.url}`,
          `  clientId: ${options.mqtt.clientId ?? 'hexedge-gateway-1'}`,
          `  protocolVersion: ${options.mqtt.protocolVersion ?? 5}`,
          `  shared: ${options.mqtt.shared ?? false}`,
        ]
      : []),
    ...(options.oracle
      ? [
          'oracle:',
          `  url: ${options.oracle.url}`,
          '  oracleIds:',
          ...options.oracle.oracleIds.map((id) => `    - ${id}`),
        ]
      : []),
    ...(options.extraYaml ?? []),
  ].join('\n');
  await writeFile(configFile, `${yaml}\n`);
  const proc = await startHexedge({
    name: 'hexedge gateway',
    args: ['gateway', '--config', configFile],
    env: {
      ...process.env,
      HEXEDGE_ADMIN_KEY: options.adminKey ?? ADMIN_KEY,
      ...(options.mqttPassword ? { HEXEDGE_MQTT_PASSWORD: options.mqttPassword } : {}),
    },
    ready: /hexedge gateway ready: (\S+)/,
  });
  return { ...proc, url: proc.match[1]! };
}

export interface NodeHandle extends Proc {
  nodeId: string;
  /** Where the node's OIP server listens (not necessarily the URL it registered: see publicUrl). */
  url: string;
  dataDir: string;
}

/** Creates a node's key and config (once), then `hexedge node run`; resolves once the gateway lists it healthy. */
export async function startNodeProcess(options: {
  dir: string;
  name: string;
  gatewayUrl: string;
  modelsDir: string;
  place: { lat: number; lng: number };
  port?: number;
  publicUrl?: string;
}): Promise<NodeHandle> {
  const dataDir = path.join(options.dir, 'nodes', options.name);
  const { nodeId } = await nodeInit({ dataDir, ...options.place, gatewayUrl: options.gatewayUrl }).catch(
    async () => loadNodeKey(dataDir),
  );
  if (options.publicUrl)
    await appendFile(path.join(dataDir, 'node.yaml'), `\npublicUrl: ${options.publicUrl}\n`);
  const proc = await startHexedge({
    name: `node ${options.name}`,
    args: [
      'node',
      'run',
      '--data-dir',
      dataDir,
      '--port',
      String(options.port ?? (await freePort())),
      '--gateway',
      options.gatewayUrl,
      '--models-dir',
      options.modelsDir,
    ],
    ready: /serving OIP v2 on (\S+) as node/,
  });
  // This process's own registration first: a node restarted under the same id is listed healthy at
  // the gateway's old address until it has registered its new one.
  await waitUntil(
    `node ${options.name} to register with the gateway`,
    () => proc.lines.some((l) => l.startsWith('registered with gateway ')),
    { timeoutMs: 15_000 },
  );
  await waitUntil(
    `node ${options.name} to be healthy at the gateway`,
    async () => (await getNode(options.gatewayUrl, nodeId))?.status === 'healthy',
    { timeoutMs: 15_000 },
  );
  return { ...proc, nodeId, url: proc.match[1]!, dataDir };
}

export async function getNode(
  gatewayUrl: string,
  nodeId: string,
): Promise<{ status: string; lastHeartbeatAtMs: number } | undefined> {
  const res = await fetch(`${gatewayUrl}/v1/nodes/${nodeId}`, { signal: AbortSignal.timeout(2_000) });
  return res.ok ? ((await res.json()) as { status: string; lastHeartbeatAtMs: number }) : undefined;
}

export const inferBody = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  location: HERE,
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }],
  ...extra,
});
