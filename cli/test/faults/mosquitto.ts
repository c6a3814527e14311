import { DeviceCredentials, hashDevicePassword } from '@hexedge/gateway';
import { FileDeviceStore, writeMosquittoFiles } from '@hexedge/gateway/node';
import { appendFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { freePort, requirePart, startMosquitto, type Proc } from '@hexedge/test-kit';

/** The fault suite's broker scenarios need Mosquitto: a missing one fails them (see test-kit's requirePart). */
export const mosquittoBinary = requirePart('mosquitto', import.meta.filename).path;

export const GATEWAY_USER = 'hexedge-gateway';
export const GATEWAY_MQTT_PASSWORD = 'faults-gateway-mqtt-secret';
export const DEVICE_PASSWORD = 'faults-device-secret';
/** Test devices use few PBKDF2 iterations: the same hashing, only cheaper. */
const TEST_ITERATIONS = 1_000;

/**
 * A real Mosquitto on a fixed free 127.0.0.1 port (fixed, so a restart comes back where clients
 * reconnect), configured only by the files `hexedge broker acl` writes, with the devices stored in the
 * gateway's data dir (`devices.json`, as `hexedge broker device add` would).
 */
export async function prepareMosquitto(options: {
  dir: string;
  gatewayDataDir: string;
  devices: string[];
  extraConfig?: string[];
}) {
  await mkdir(options.gatewayDataDir, { recursive: true, mode: 0o700 });
  const credentials = new DeviceCredentials({
    store: new FileDeviceStore(path.join(options.gatewayDataDir, 'devices.json')),
  });
  for (const id of options.devices)
    await credentials.add({ id, password: DEVICE_PASSWORD, iterations: TEST_ITERATIONS });
  const port = await freePort();
  const brokerDir = path.join(options.dir, 'mosquitto');
  const admins = [
    {
      username: GATEWAY_USER,
      passwordHash: await hashDevicePassword(GATEWAY_MQTT_PASSWORD, { iterations: TEST_ITERATIONS }),
    },
  ];
  // As root Mosquitto would drop to user `mosquitto`, which cannot read a private temp dir.
  const files = await writeMosquittoFiles({
    dir: brokerDir,
    devices: credentials.store.list(),
    admins,
    port,
    host: '127.0.0.1',
    user: os.userInfo().username,
  });
  if (options.extraConfig?.length) await appendFile(files.configFile, `${options.extraConfig.join('\n')}\n`);
  const url = `mqtt://127.0.0.1:${port}`;
  const start = (): Promise<Proc> =>
    startMosquitto({ binary: mosquittoBinary!, configFile: files.configFile, port });
  return { url, port, brokerDir, configFile: files.configFile, start };
}

/** A device's MQTT client: its id is client id and username (the ACL ties topics to it). */
export async function deviceClient(
  url: string,
  id: string,
  options: IClientOptions = {},
): Promise<MqttClient> {
  const c = await mqtt.connectAsync(
    url,
    {
      clientId: id,
      username: id,
      password: DEVICE_PASSWORD,
      protocolVersion: 5,
      connectTimeout: 3_000,
      reconnectPeriod: 0,
      ...options,
    },
    false,
  );
  c.on('connect', () => (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
  (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return c;
}
