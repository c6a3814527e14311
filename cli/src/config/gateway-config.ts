import { nodeIdSchema } from '@hexedge/protocol';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** `hexedge gateway` configuration: a YAML file (see cli/examples/gateway.yaml) plus flags. Secrets come from the environment. */
export const gatewayConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** Placement state, API keys and device credentials (SQLite, durable writes). */
    dataDir: z.string().min(1).default('.hexedge-gateway'),
    /** The origin model registry: hash-checked artifacts and manifests. Default: <dataDir>/models. */
    modelsDir: z.string().min(1).optional(),
    heartbeatIntervalMs: z.number().int().min(100).max(600_000).default(5_000),
    /** Take nodes' location claims as verified (only where no oracle runs). */
    assumeLocationsVerified: z.boolean().default(false),
    mqtt: z
      .object({
        url: z.url({ protocol: /^mqtts?$/ }),
        clientId: z.string().min(1).max(64).default('hexedge-gateway-1'),
        username: z.string().min(1).max(128).default('hexedge-gateway'),
        protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
        /** Share the request topics with other gateway instances ($share/hexedge/…; MQTT v5 brokers). */
        shared: z.boolean().default(true),
      })
      .strict()
      .optional(),
    oracle: z.object({ url: z.url({ protocol: /^https?$/ }), oracleIds: z.array(nodeIdSchema).min(1).max(16) }).strict().optional(),
  })
  .strict();

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** Environment variables the gateway reads its secrets from (never from files or flags, which leak). */
export const ADMIN_KEY_ENV = 'HEXEDGE_ADMIN_KEY';
export const MQTT_PASSWORD_ENV = 'HEXEDGE_MQTT_PASSWORD';

export function parseGatewayConfig(options: { fileText?: string; fileName?: string; overrides?: Record<string, unknown> }): GatewayConfig {
  let fromFile: unknown = {};
  if (options.fileText !== undefined) {
    try {
      fromFile = parseYaml(options.fileText) ?? {};
    } catch (err) {
      throw new Error(`${options.fileName ?? 'gateway config'}: not valid YAML: ${(err as Error).message}`);
    }
  }
  if (typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new Error(`${options.fileName ?? 'gateway config'}: must be a mapping of keys`);
  const defined = Object.fromEntries(Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined));
  const parsed = gatewayConfigSchema.safeParse({ ...(fromFile as Record<string, unknown>), ...defined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${options.fileName ?? 'gateway config'}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
