import type { LatLng } from '@hexedge/protocol';
import type { DeviceClass } from '../chirpstack/events.ts';
import { bytesToBase64 } from '../bridge/downlink.ts';

export interface SimulatedReception {
  gatewayId: string;
  rssiDbm: number;
  snrDb: number;
  location?: LatLng;
}

/**
 * A ChirpStack v4 `event/up` body as its JSON marshaler writes it (proto3 JSON mapping, camelCase),
 * with the fields a real one carries so consumers meet the same shape in the demo as in production.
 */
export function chirpstackUplinkJson(options: {
  deduplicationId: string;
  timeMs: number;
  tenantId?: string;
  applicationId: string;
  devEui: string;
  deviceName?: string;
  deviceProfileName?: string;
  deviceClass?: DeviceClass;
  devAddr?: string;
  fCnt: number;
  fPort: number;
  data: Uint8Array;
  dr: number;
  regionConfigId: string;
  frequencyHz?: number;
  confirmed?: boolean;
  receptions: SimulatedReception[];
}): Record<string, unknown> {
  const o = options;
  return {
    deduplicationId: o.deduplicationId,
    time: new Date(o.timeMs).toISOString(),
    deviceInfo: {
      tenantId: o.tenantId ?? '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
      tenantName: 'HexEdge demo',
      applicationId: o.applicationId,
      applicationName: 'hexedge-demo',
      deviceProfileId: '0f2e8c3a-4b57-4c1e-9a55-0c7a1d7bd7b1',
      deviceProfileName: o.deviceProfileName ?? 'demo',
      deviceName: o.deviceName ?? o.devEui,
      devEui: o.devEui,
      deviceClassEnabled: `CLASS_${o.deviceClass ?? 'A'}`,
      tags: {},
    },
    devAddr: o.devAddr ?? `01${o.devEui.slice(-6)}`,
    adr: true,
    dr: o.dr,
    fCnt: o.fCnt,
    fPort: o.fPort,
    confirmed: o.confirmed ?? false,
    data: bytesToBase64(o.data),
    rxInfo: o.receptions.map((r, i) => ({
      gatewayId: r.gatewayId,
      uplinkId: 1000 + i,
      rssi: Math.round(r.rssiDbm),
      snr: Math.round(r.snrDb * 4) / 4,
      channel: 0,
      ...(r.location ? { location: { latitude: r.location.lat, longitude: r.location.lng, altitude: 12 } } : {}),
      context: 'AAAAAA==',
      metadata: { region_config_id: o.regionConfigId, region_common_name: o.regionConfigId.toUpperCase().replace(/_.*/, '') },
      crcStatus: 'CRC_OK',
    })),
    txInfo: { frequency: o.frequencyHz ?? 868_100_000, modulation: { lora: { bandwidth: 125_000, spreadingFactor: 12 - Math.min(o.dr, 5), codeRate: 'CR_4_5' } } },
    regionConfigId: o.regionConfigId,
  };
}
