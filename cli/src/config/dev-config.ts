import { z } from 'zod';

/** `hexedge dev` flags, parsed once at start-up. Ports are TCP ports (0 = any free port). */
export const devConfigSchema = z.object({
  port: z.number().int().min(0).max(65535).default(8787),
  mqttPort: z.number().int().min(0).max(65535).default(1883),
  host: z.string().min(1).default('127.0.0.1'),
  nodes: z.number().int().min(1).max(12).default(3),
  dataDir: z.string().min(1).default('.hexedge'),
  apiKey: z
    .string()
    .regex(/^[\x21-\x7e]{8,256}$/, 'must be 8–256 printable ASCII characters')
    .optional(),
  heartbeatMs: z.number().int().min(100).max(600_000).default(2_000),
  /** How much faster than real time the device simulator's clock runs (60: a 5-minute reading every 5 s); 0 turns it off. */
  simSpeed: z.number().min(0).max(3_600).default(60),
  /** The MQTT broker: Mosquitto where installed (MQTT v5), else the embedded aedes (MQTT 3.1.1 only). */
  broker: z.enum(['auto', 'mosquitto', 'aedes']).default('auto'),
});

export type DevConfig = z.infer<typeof devConfigSchema> & { apiKey: string };
