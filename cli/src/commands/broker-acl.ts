import { DeviceCredentials, hashDevicePassword } from '@hexedge/gateway';
import { FileDeviceStore, writeMosquittoFiles } from '@hexedge/gateway/node';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** Where `hexedge dev` reads device credentials from, and where these commands write them by default. */
const DEFAULT_DEVICES_FILE = '.hexedge/devices.json';
const DEFAULT_GATEWAY_USER = 'hexedge-gateway';

export const BROKER_USAGE = `  broker device add  add (or replace) a device's MQTT credentials (password kept only as a PBKDF2 hash)
                     ID --password P [--models a,b] [--devices ${DEFAULT_DEVICES_FILE}]
  broker acl         write Mosquitto's password_file, acl_file and hexedge.conf from the devices
                     --out DIR [--devices ${DEFAULT_DEVICES_FILE}] [--gateway-user ${DEFAULT_GATEWAY_USER}]
                     [--gateway-password P (default: random, printed once)] [--port 1883] [--host H]
`;

/** `hexedge broker device add` and `hexedge broker acl`; false when argv is neither. */
export async function runBrokerCommand(argv: string[], log: (m: string) => void): Promise<boolean> {
  const [command, sub, third] = argv;
  if (command !== 'broker') return false;
  if (sub === 'device' && third === 'add') {
    const { values, positionals } = parseArgs({
      args: argv.slice(3),
      allowPositionals: true,
      options: { password: { type: 'string' }, models: { type: 'string' }, devices: { type: 'string' } },
    });
    const id = positionals[0];
    if (!id || !values.password) throw new Error('broker device add needs a device ID and --password');
    const file = values.devices ?? DEFAULT_DEVICES_FILE;
    const credentials = new DeviceCredentials({ store: new FileDeviceStore(file) });
    const models = values.models?.split(',').map((m) => m.trim()).filter(Boolean);
    await credentials.add({ id, password: values.password, ...(models?.length ? { models } : {}) });
    log(`device ${id} saved in ${file} (models: ${models?.join(', ') ?? 'all'}); it connects with client id and username ${id}`);
    return true;
  }
  if (sub === 'acl') {
    const { values } = parseArgs({
      args: argv.slice(2),
      options: {
        out: { type: 'string' },
        devices: { type: 'string' },
        'gateway-user': { type: 'string' },
        'gateway-password': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
      },
    });
    if (!values.out) throw new Error('broker acl needs --out DIR');
    const port = values.port === undefined ? 1883 : Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a TCP port, got ${JSON.stringify(values.port)}`);
    const file = values.devices ?? DEFAULT_DEVICES_FILE;
    const devices = new FileDeviceStore(file).list();
    const username = values['gateway-user'] ?? DEFAULT_GATEWAY_USER;
    const password = values['gateway-password'] ?? randomBytes(24).toString('base64url');
    const files = await writeMosquittoFiles({
      dir: values.out,
      devices,
      admins: [{ username, passwordHash: await hashDevicePassword(password) }],
      port,
      ...(values.host ? { host: values.host } : {}),
    });
    log(`wrote ${files.passwordFile}, ${files.aclFile} and ${files.configFile} for ${devices.length} device(s) from ${file}`);
    log(`run: mosquitto -c ${path.resolve(files.configFile)}`);
    // password_file is 0640: started as root, Mosquitto reads it as user `mosquitto` after dropping privileges.
    if (process.getuid?.() === 0) log(`as root, first: chgrp mosquitto ${files.passwordFile} (Mosquitto drops to user mosquitto)`);
    if (!values['gateway-password']) log(`gateway user ${username} password (shown once): ${password}`);
    return true;
  }
  throw new Error(`unknown broker command: ${argv.join(' ')}\n\n${BROKER_USAGE}`);
}
