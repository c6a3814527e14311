import { z } from 'zod';
import { parseWith } from '@hexedge/protocol';
import {
  receptionLocation,
  toDeviceClass,
  type ChirpstackEvent,
  type ChirpstackEventKind,
  type DeviceRef,
} from './events.ts';

/**
 * ChirpStack v4's JSON marshaling is the proto3 JSON mapping (camelCase names). proto3 omits fields
 * that hold their default (fCnt 0, dr 0, no data), so every scalar has its proto3 default here, and
 * objects are not strict: fields added by a newer ChirpStack must not break the bridge.
 */
const DEV_EUI = z.string().regex(/^[0-9A-Fa-f]{16}$/, 'must be 16 hex digits');
const BASE64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
/** RFC 3339 as ChirpStack writes it; proto3 JSON allows any fractional precision and offset. */
const TIME = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'must be an RFC 3339 time');
const U32 = z.number().int().min(0).max(4_294_967_295);
const ENUM = z.union([z.string(), z.number()]);

const deviceInfoSchema = z.object({
  tenantId: z.string().optional(),
  applicationId: z.string().min(1),
  deviceProfileName: z.string().optional(),
  devEui: DEV_EUI,
  deviceClassEnabled: ENUM.optional(),
  tags: z.record(z.string(), z.string()).default({}),
});

const locationSchema = z.object({ latitude: z.number().default(0), longitude: z.number().default(0), altitude: z.number().default(0) });

const rxInfoSchema = z.object({
  gatewayId: z.string().default(''),
  rssi: z.number().int().default(0),
  snr: z.number().default(0),
  location: locationSchema.optional(),
});

const uplinkSchema = z.object({
  deduplicationId: z.string().min(1),
  time: TIME.optional(),
  deviceInfo: deviceInfoSchema,
  devAddr: z.string().optional(),
  dr: z.number().int().min(0).max(15).default(0),
  fCnt: U32.default(0),
  fPort: z.number().int().min(0).max(255).default(0),
  confirmed: z.boolean().default(false),
  data: BASE64.default(''),
  rxInfo: z.array(rxInfoSchema).max(64).default([]),
  txInfo: z.object({ frequency: z.number().optional() }).optional(),
  regionConfigId: z.string().optional(),
});

const joinSchema = z.object({ deduplicationId: z.string().min(1), time: TIME.optional(), deviceInfo: deviceInfoSchema, devAddr: z.string().optional() });
const statusSchema = z.object({
  deduplicationId: z.string().min(1),
  time: TIME.optional(),
  deviceInfo: deviceInfoSchema,
  margin: z.number().int().default(0),
  externalPowerSource: z.boolean().default(false),
  batteryLevelUnavailable: z.boolean().default(false),
  batteryLevel: z.number().default(0),
});
const ackSchema = z.object({ time: TIME.optional(), deviceInfo: deviceInfoSchema, queueItemId: z.string().default(''), acknowledged: z.boolean().default(false), fCntDown: U32.default(0) });
const txAckSchema = z.object({ time: TIME.optional(), deviceInfo: deviceInfoSchema, queueItemId: z.string().default(''), fCntDown: U32.default(0), gatewayId: z.string().default('') });
const logSchema = z.object({ time: TIME.optional(), deviceInfo: deviceInfoSchema, level: ENUM.default('INFO'), code: ENUM.default('UNKNOWN'), description: z.string().default('') });

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function deviceRef(d: z.output<typeof deviceInfoSchema>): DeviceRef {
  return {
    devEui: d.devEui.toLowerCase(),
    applicationId: d.applicationId,
    ...(d.tenantId ? { tenantId: d.tenantId } : {}),
    ...(d.deviceProfileName ? { deviceProfileName: d.deviceProfileName } : {}),
    deviceClass: toDeviceClass(d.deviceClassEnabled),
    tags: d.tags,
  };
}

const timeOf = (t: string | undefined, nowMs: number) => (t ? Date.parse(t) : nowMs);

/** Parses one JSON event body; throws INVALID_REQUEST naming the first bad field. */
export function parseJsonEvent(options: { kind: ChirpstackEventKind; body: unknown; nowMs: number }): ChirpstackEvent {
  const { kind, body, nowMs } = options;
  const what = `ChirpStack ${kind} event`;
  const marshaling = 'json' as const;
  switch (kind) {
    case 'up': {
      const e = parseWith(uplinkSchema, body, { what });
      return {
        kind,
        marshaling,
        deduplicationId: e.deduplicationId,
        timeMs: timeOf(e.time, nowMs),
        device: deviceRef(e.deviceInfo),
        ...(e.devAddr ? { devAddr: e.devAddr } : {}),
        fCnt: e.fCnt,
        fPort: e.fPort,
        confirmed: e.confirmed,
        data: base64ToBytes(e.data),
        dr: e.dr,
        ...(e.regionConfigId ? { regionConfigId: e.regionConfigId } : {}),
        rxInfo: e.rxInfo.map((r) => ({
          gatewayId: r.gatewayId,
          rssiDbm: r.rssi,
          snrDb: r.snr,
          ...(receptionLocation(r.location) ? { location: receptionLocation(r.location)! } : {}),
        })),
        ...(e.txInfo?.frequency ? { frequencyHz: e.txInfo.frequency } : {}),
      };
    }
    case 'join': {
      const e = parseWith(joinSchema, body, { what });
      return { kind, marshaling, deduplicationId: e.deduplicationId, timeMs: timeOf(e.time, nowMs), device: deviceRef(e.deviceInfo), ...(e.devAddr ? { devAddr: e.devAddr } : {}) };
    }
    case 'status': {
      const e = parseWith(statusSchema, body, { what });
      return {
        kind,
        marshaling,
        deduplicationId: e.deduplicationId,
        timeMs: timeOf(e.time, nowMs),
        device: deviceRef(e.deviceInfo),
        marginDb: e.margin,
        externalPowerSource: e.externalPowerSource,
        ...(e.batteryLevelUnavailable || e.externalPowerSource ? {} : { batteryLevelPct: e.batteryLevel }),
      };
    }
    case 'ack': {
      const e = parseWith(ackSchema, body, { what });
      return { kind, marshaling, timeMs: timeOf(e.time, nowMs), device: deviceRef(e.deviceInfo), queueItemId: e.queueItemId, acknowledged: e.acknowledged, fCntDown: e.fCntDown };
    }
    case 'txack': {
      const e = parseWith(txAckSchema, body, { what });
      return { kind, marshaling, timeMs: timeOf(e.time, nowMs), device: deviceRef(e.deviceInfo), queueItemId: e.queueItemId, fCntDown: e.fCntDown, gatewayId: e.gatewayId };
    }
    case 'log': {
      const e = parseWith(logSchema, body, { what });
      return { kind, marshaling, timeMs: timeOf(e.time, nowMs), device: deviceRef(e.deviceInfo), level: String(e.level), code: String(e.code), description: e.description };
    }
  }
}
