import { z } from 'zod';
import { binaryFieldSchema } from '../codecs/binary-schema.ts';

/**
 * A device profile: how one kind of device's bytes become a model input, and how the model's answer
 * becomes bytes the device can receive. Validated once when stored; errors name the field.
 */
const ID = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1–64 of a-z 0-9 . _ - starting with a letter or digit');
/** A decoded field: `temperature_1`, or a dotted path into an object such as `gps_1.latitude`. */
const PATH = z
  .string()
  .regex(/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/, 'must be a field name or dotted path');
const LAT_LNG = z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }).strict();
/** LoRaWAN application ports are 1–223; 224 is the MAC test port and 225–255 are reserved (LoRaWAN 1.0.4 §4.3.2). */
const F_PORT = z.number().int().min(1).max(223);
const JS_SOURCE = z
  .string()
  .min(1)
  .max(256 * 1024);
const JS_LIMITS = {
  timeoutMs: z.number().int().min(1).max(5_000).optional(),
  memoryBytes: z
    .number()
    .int()
    .min(1 << 20)
    .max(256 << 20)
    .optional(),
};

export const codecSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('lpp') }).strict(),
  z.object({ kind: z.literal('binary'), fields: z.array(binaryFieldSchema).min(1).max(256) }).strict(),
  z.object({ kind: z.literal('js'), source: JS_SOURCE, ...JS_LIMITS }).strict(),
]);

/**
 * Which payload the input's field paths read: the codec's decoded payload, or TTN's normalized payload
 * (a JS codec's normalizeUplink: `air.temperature`, `air.relativeHumidity`, …). A normalized payload
 * of several measurements feeds them to the input in order, each at its own `time`.
 */
const PAYLOAD = z.enum(['decoded', 'normalized']).default('decoded');

const normalizeSchema = z.union([
  z.object({ mean: z.number(), std: z.number().positive() }).strict(),
  z
    .object({ min: z.number(), max: z.number() })
    .strict()
    .refine((n) => n.max > n.min, 'max must be above min'),
]);

/** One tensor element: `(decoded × scale + add)` converts units, then optional normalization. */
const tensorFieldSchema = z
  .object({
    path: PATH,
    scale: z.number().finite().default(1),
    add: z.number().finite().default(0),
    normalize: normalizeSchema.optional(),
  })
  .strict();

export const inputSpecSchema = z.discriminatedUnion('kind', [
  /** Raw OIP tensor: shape [1, fields] or, with windowReadings N, [1, N, fields] (oldest first). */
  z
    .object({
      kind: z.literal('tensor'),
      payload: PAYLOAD,
      name: z.string().min(1).max(128),
      datatype: z.enum(['FP32', 'FP64']).default('FP32'),
      fields: z.array(tensorFieldSchema).min(1).max(1024),
      windowReadings: z.number().int().min(2).max(1024).optional(),
    })
    .strict(),
  /** Domain input `{ readingIntervalS, readings: [{ name: value }] }` (env-occupancy). */
  z
    .object({
      kind: z.literal('reading-window'),
      payload: PAYLOAD,
      readings: z.number().int().min(1).max(1024),
      readingIntervalS: z.number().positive(),
      /** A gap this many intervals long restarts the window: the model assumes evenly spaced readings. */
      maxGapIntervals: z.number().positive().default(2),
      fields: z
        .record(z.string().regex(/^[A-Za-z_]\w*$/), PATH)
        .refine((f) => Object.keys(f).length > 0, 'needs at least one field'),
    })
    .strict(),
  /** Domain input `{ sampleRateHz, accelerationG: { x: [...] } }` from a burst sent in fragments (vibration-anomaly). */
  z
    .object({
      kind: z.literal('sample-burst'),
      payload: PAYLOAD,
      samples: z.number().int().min(1).max(65_536),
      sampleRateHz: z.number().positive(),
      captureField: PATH,
      fragmentField: PATH,
      /** Output key holding the axes, e.g. `accelerationG`. */
      axesKey: z
        .string()
        .regex(/^[A-Za-z_]\w*$/)
        .default('accelerationG'),
      axes: z
        .record(z.string().regex(/^[A-Za-z_]\w*$/), PATH)
        .refine((a) => Object.keys(a).length > 0, 'needs at least one axis'),
    })
    .strict(),
]);

/** How the answer becomes bytes: class index (1 byte), index + confidence % (2), one byte per class, a codec. */
export const encodingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('class-index') }).strict(),
  z.object({ kind: z.literal('label-confidence') }).strict(),
  z.object({ kind: z.literal('probabilities') }).strict(),
  z.object({ kind: z.literal('codec') }).strict(),
  z.object({ kind: z.literal('js'), source: JS_SOURCE, ...JS_LIMITS }).strict(),
]);

export const downlinkSpecSchema = z
  .object({
    fPort: F_PORT,
    confirmed: z.boolean().default(false),
    encoding: encodingSchema,
    /** Used when `encoding` does not fit the uplink's region/DR; `results-only` sends no downlink. */
    fallback: z
      .union([encodingSchema, z.object({ kind: z.literal('results-only') }).strict()])
      .default({ kind: 'results-only' }),
  })
  .strict();

export const locationPolicySchema = z
  .object({
    fixed: LAT_LNG.optional(),
    useGps: z.boolean().default(true),
    /** Decoded field holding `{ latitude, longitude }`; found automatically when absent. */
    gpsField: PATH.optional(),
    useGateways: z.boolean().default(true),
  })
  .strict();

export const profileSchema = z
  .object({
    id: ID,
    description: z.string().max(1024).optional(),
    codec: codecSpecSchema,
    model: z.string().min(1).max(128),
    version: z.string().min(1).max(64).optional(),
    input: inputSpecSchema,
    output: z
      .object({
        labels: z.array(z.string().min(1)).min(1).max(256).optional(),
        tensor: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    downlink: downlinkSpecSchema.optional(),
    location: locationPolicySchema.default({ useGps: true, useGateways: true }),
    /** fPort given to the codec for payloads that arrive on `hexedge/v1/uplink/{devEui}` (no LoRaWAN port). */
    directFPort: F_PORT.default(1),
  })
  .strict();

export const deviceSchema = z
  .object({
    devEui: z
      .string()
      .regex(/^[0-9A-Fa-f]{16}$/, 'must be 16 hex digits')
      .transform((s) => s.toLowerCase()),
    fleet: ID,
    profile: ID,
    name: z.string().max(128).optional(),
    /** Where this device is installed; wins over the profile's location policy. */
    location: LAT_LNG.optional(),
  })
  .strict();

/** A fleet file kept in git: `{ "profiles": [...], "devices": [...] }`. */
export const fleetFileSchema = z
  .object({ profiles: z.array(profileSchema).default([]), devices: z.array(deviceSchema).default([]) })
  .strict();

export type Profile = z.output<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
export type Device = z.output<typeof deviceSchema>;
export type DeviceInput = z.input<typeof deviceSchema>;
export type FleetFile = z.output<typeof fleetFileSchema>;
export type FleetFileInput = z.input<typeof fleetFileSchema>;
export type CodecSpec = z.output<typeof codecSpecSchema>;
export type InputSpec = z.output<typeof inputSpecSchema>;
export type Encoding = z.output<typeof encodingSchema>;
export type DownlinkSpec = z.output<typeof downlinkSpecSchema>;
export type LocationPolicy = z.output<typeof locationPolicySchema>;
