/**
 * ChirpStack v4 integration events in the bridge's own shape, whichever marshaling they came in
 * (JSON or protobuf): units in the names, DevEUI in lower-case hex, absent proto3 defaults filled in.
 */
export type DeviceClass = 'A' | 'B' | 'C';
export type Marshaling = 'json' | 'protobuf';

export interface GatewayReception {
  gatewayId: string;
  rssiDbm: number;
  snrDb: number;
  /** Absent when the gateway reported no position (proto3 sends 0,0 for "unset"). */
  location?: { lat: number; lng: number; altitudeM: number };
}

export interface DeviceRef {
  devEui: string;
  applicationId: string;
  tenantId?: string;
  deviceProfileName?: string;
  deviceClass: DeviceClass;
  tags: Record<string, string>;
}

export interface UplinkEvent {
  kind: 'up';
  marshaling: Marshaling;
  deduplicationId: string;
  timeMs: number;
  device: DeviceRef;
  devAddr?: string;
  fCnt: number;
  fPort: number;
  confirmed: boolean;
  data: Uint8Array;
  dr: number;
  regionConfigId?: string;
  rxInfo: GatewayReception[];
  frequencyHz?: number;
}

export interface JoinEvent {
  kind: 'join';
  marshaling: Marshaling;
  deduplicationId: string;
  timeMs: number;
  device: DeviceRef;
  devAddr?: string;
}

export interface StatusEvent {
  kind: 'status';
  marshaling: Marshaling;
  deduplicationId: string;
  timeMs: number;
  device: DeviceRef;
  marginDb: number;
  externalPowerSource: boolean;
  /** Percent; undefined when the device said its level is unavailable. */
  batteryLevelPct?: number;
}

export interface AckEvent {
  kind: 'ack';
  marshaling: Marshaling;
  timeMs: number;
  device: DeviceRef;
  queueItemId: string;
  acknowledged: boolean;
  fCntDown: number;
}

export interface TxAckEvent {
  kind: 'txack';
  marshaling: Marshaling;
  timeMs: number;
  device: DeviceRef;
  queueItemId: string;
  fCntDown: number;
  gatewayId: string;
}

export interface LogEvent {
  kind: 'log';
  marshaling: Marshaling;
  timeMs: number;
  device: DeviceRef;
  level: string;
  code: string;
  description: string;
}

export type ChirpstackEvent = UplinkEvent | JoinEvent | StatusEvent | AckEvent | TxAckEvent | LogEvent;
export type ChirpstackEventKind = ChirpstackEvent['kind'];
export const CHIRPSTACK_EVENT_KINDS: readonly ChirpstackEventKind[] = ['up', 'join', 'status', 'ack', 'txack', 'log'];

/** proto3 has no "unset" for a message's numbers: a gateway without a position reports 0, 0. */
export function receptionLocation(loc: { latitude?: number; longitude?: number; altitude?: number } | undefined): GatewayReception['location'] {
  if (!loc) return undefined;
  const lat = loc.latitude ?? 0;
  const lng = loc.longitude ?? 0;
  if (lat === 0 && lng === 0) return undefined;
  if (!(lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180)) return undefined;
  return { lat, lng, altitudeM: loc.altitude ?? 0 };
}

const CLASS_NAMES: Record<string, DeviceClass> = { CLASS_A: 'A', CLASS_B: 'B', CLASS_C: 'C', '0': 'A', '1': 'B', '2': 'C' };
export function toDeviceClass(value: string | number | undefined): DeviceClass {
  return CLASS_NAMES[String(value ?? 'CLASS_A')] ?? 'A';
}
