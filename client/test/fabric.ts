import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';
import {
  hexedge,
  initNode,
  requirePart,
  startAclBroker,
  startGatewayProcess,
  startNodeProcess,
  type GatewayProcess,
  type NodeProcess,
  type Proc,
} from '@hexedge/test-kit';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The deployables as an operator runs them, for the client's tests: Mosquitto configured by
 * `hexedge broker device add` and `hexedge broker acl`, `hexedge gateway` (MQTT v5 ingress on that
 * broker, at most one inference in progress at once, so a burst gets a real 503), and one
 * `hexedge node run` that pulls its models from the gateway's origin registry (comfort-index for
 * tensors, env-occupancy for a domain input).
 */
export const mosquittoPart = requirePart('mosquitto', import.meta.filename);

export const ADMIN_KEY = 'client-test-admin-key-0123456789';
export const DEVICE_ID = 'sensor-7';
export const DEVICE_PASSWORD = 'client-test-device-secret';
const GATEWAY_MQTT_PASSWORD = 'client-test-gateway-mqtt-secret';
export const HERE = { lat: 52.37, lng: 4.9 };

export interface Fabric {
  dir: string;
  gateway: GatewayProcess;
  node: NodeProcess;
  mosquitto: Proc;
  mqttUrl: string;
  stop(): Promise<void>;
}

export async function startFabric(): Promise<Fabric> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hexedge-client-'));
  const gatewayData = path.join(dir, 'gateway');
  const modelsDir = path.join(dir, 'models');
  await mkdir(gatewayData, { recursive: true, mode: 0o700 });
  const comfort = buildComfortIndexModel();
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(comfort), bytes: comfort });
  await hexedge(['model', 'build', '--out', modelsDir, '--only', 'env-occupancy']);

  const devices = path.join(gatewayData, 'devices.json');
  await hexedge(['broker', 'device', 'add', DEVICE_ID, '--password', DEVICE_PASSWORD, '--devices', devices]);
  const { broker: mosquitto, url: mqttUrl } = await startAclBroker({
    binary: mosquittoPart.path!,
    dir: path.join(dir, 'mosquitto'),
    devicesFile: devices,
    gatewayPassword: GATEWAY_MQTT_PASSWORD,
  });

  const gateway = await startGatewayProcess({
    configFile: path.join(dir, 'gateway.yaml'),
    adminKey: ADMIN_KEY,
    mqttPassword: GATEWAY_MQTT_PASSWORD,
    config: {
      host: '127.0.0.1',
      port: 0,
      dataDir: gatewayData,
      modelsDir,
      heartbeatIntervalMs: 1_000,
      assumeLocationsVerified: true,
      allowPrivateNodeAddresses: true,
      limits: { maxInFlight: 1 },
      mqtt: { url: mqttUrl, protocolVersion: 5, chirpstack: { enabled: false } },
    },
  });
  const nodeData = path.join(dir, 'node');
  await initNode({ dataDir: nodeData, ...HERE, gatewayUrl: gateway.url });
  const node = await startNodeProcess({ dataDir: nodeData, args: ['--port', '0'], timeoutMs: 120_000 });

  return {
    dir,
    gateway,
    node,
    mosquitto,
    mqttUrl,
    async stop() {
      await node.stop();
      await gateway.stop();
      await mosquitto.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
