import { DeviceCredentials } from '@hexedge/gateway';
import { FileDeviceStore } from '@hexedge/gateway/node';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Command } from '../command.ts';
import { parseFlags, portFlag, required } from '../flags.ts';
import { DEFAULT_DEVICES_FILE, DEFAULT_GATEWAY_USER, writeBrokerFiles } from './broker-files.ts';

export const brokerCommands: Command[] = [
  {
    name: ['broker', 'device', 'add'],
    usage: `  broker device add  add (or replace) a device's MQTT credentials (password kept only as a PBKDF2 hash)
                     ID --password P [--models a,b] [--devices ${DEFAULT_DEVICES_FILE}]
`,
    async run(args, io) {
      const { values, positionals } = parseFlags(
        args,
        { password: { type: 'string' }, models: { type: 'string' }, devices: { type: 'string' } },
        { positionals: true },
      );
      const id = required(positionals[0], 'broker device add needs a device ID and --password');
      const password = required(values.password, 'broker device add needs a device ID and --password');
      const file = values.devices ?? DEFAULT_DEVICES_FILE;
      const credentials = new DeviceCredentials({ store: new FileDeviceStore(file) });
      const models = values.models
        ?.split(',')
        .map((m) => m.trim())
        .filter(Boolean);
      await credentials.add({ id, password, ...(models?.length ? { models } : {}) });
      io.out(
        `device ${id} saved in ${file} (models: ${models?.join(', ') ?? 'all'}); it connects with client id and username ${id}`,
      );
    },
  },
  {
    name: ['broker', 'acl'],
    usage: `  broker acl         write Mosquitto's dynamic-security.json and hexedge.conf from the devices
                     (client ids bound to devices, subscriptions confined: see gateway/README.md)
                     --out DIR [--devices ${DEFAULT_DEVICES_FILE}] [--gateway-user ${DEFAULT_GATEWAY_USER}]
                     [--gateway-password P (default: random, printed once)] [--port 1883] [--host H]
                     [--run-as USER (Mosquitto's \`user\`: who it runs as once started as root)]
                     [--plugin PATH (mosquitto_dynamic_security.so; default: found where distributions put it)]
`,
    async run(args, io) {
      const { values } = parseFlags(args, {
        out: { type: 'string' },
        devices: { type: 'string' },
        'gateway-user': { type: 'string' },
        'gateway-password': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'run-as': { type: 'string' },
        plugin: { type: 'string' },
      });
      const out = required(values.out, 'broker acl needs --out DIR');
      const port = portFlag(values.port) ?? 1883;
      if (port === 0) throw new Error('--port must be a TCP port in [1, 65535], got "0"');
      const file = values.devices ?? DEFAULT_DEVICES_FILE;
      const username = values['gateway-user'] ?? DEFAULT_GATEWAY_USER;
      const password = values['gateway-password'] ?? randomBytes(24).toString('base64url');
      const files = await writeBrokerFiles({
        dir: out,
        devicesFile: file,
        users: [{ username, password }],
        port,
        ...(values.host ? { host: values.host } : {}),
        ...(values['run-as'] ? { runAs: values['run-as'] } : {}),
        ...(values.plugin ? { pluginPath: values.plugin } : {}),
      });
      io.out(
        `wrote ${files.securityFile} and ${files.configFile} for ${files.devices} device(s) from ${file}`,
      );
      io.out(`run: mosquitto -c ${path.resolve(files.configFile)}`);
      // The security file is 0640: started as root, Mosquitto reads it as user `mosquitto` after dropping privileges.
      if (process.getuid?.() === 0)
        io.out(`as root, first: chgrp mosquitto ${files.securityFile} (Mosquitto drops to user mosquitto)`);
      if (!values['gateway-password']) io.out(`gateway user ${username} password (shown once): ${password}`);
    },
  },
];
