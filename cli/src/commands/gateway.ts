import {
  ADMIN_KEY_ENV,
  ADMIN_KEY_PATTERN,
  gatewayConfigSchema,
  MQTT_PASSWORD_ENV,
  type GatewaySecrets,
} from '@hexedge/gateway';
import { buildGateway } from '@hexedge/gateway/node';
import type { Command } from '../command.ts';
import { loadConfigFile } from '../config/load-config.ts';
import { dashboardDirInBackground } from '../dashboard-assets.ts';
import { defined, parseFlags, portFlag } from '../flags.ts';

/** The gateway's secrets, from the environment only: files and flags leak (process lists, backups). */
export function gatewaySecretsFromEnv(env: NodeJS.ProcessEnv): GatewaySecrets {
  const adminKey = env[ADMIN_KEY_ENV];
  if (!adminKey || !ADMIN_KEY_PATTERN.test(adminKey)) {
    throw new Error(
      `set ${ADMIN_KEY_ENV} to the admin API key (16–256 printable characters); it is read from the environment so it never sits in a file or a process list`,
    );
  }
  const mqttPassword = env[MQTT_PASSWORD_ENV];
  return { adminKey, ...(mqttPassword ? { mqttPassword } : {}) };
}

export const gatewayCommand: Command = {
  name: ['gateway'],
  usage: `  gateway    the HTTP geo API, MQTT ingress and firmware bridge as a standalone service
             [--config FILE] [--port N] [--host H] [--data-dir DIR] [--models-dir DIR] [--mqtt URL]
             (every key: cli/examples/gateway.yaml) secrets from the environment: ${ADMIN_KEY_ENV} (required), ${MQTT_PASSWORD_ENV}
`,
  async run(args, io) {
    const { values } = parseFlags(args, {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'models-dir': { type: 'string' },
      mqtt: { type: 'string' },
    });
    const secrets = gatewaySecretsFromEnv(io.env);
    const fromFile = await loadConfigFile({
      schema: gatewayConfigSchema,
      what: 'gateway',
      ...(values.config ? { file: values.config } : {}),
    });
    const config = await loadConfigFile({
      schema: gatewayConfigSchema,
      what: 'gateway',
      ...(values.config ? { file: values.config } : {}),
      overrides: defined({
        port: portFlag(values.port),
        host: values.host,
        dataDir: values['data-dir'],
        modelsDir: values['models-dir'],
        mqtt: values.mqtt ? { ...fromFile.mqtt, url: values.mqtt } : undefined,
        dashboardDir: fromFile.dashboardDir ?? dashboardDirInBackground(io.log),
      }),
    });
    const gateway = await buildGateway(config, secrets, { signal: io.signal, log: io.log });
    io.log(
      `hexedge gateway ready: ${gateway.url}${config.mqtt ? ` mqtt ${config.mqtt.url ?? gateway.brokerUrl}` : ''} reporter ${gateway.reporterId} data-dir ${config.dataDir}`,
    );
    return { stop: gateway.stop, done: gateway.closed };
  },
};
