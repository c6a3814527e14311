import { DeviceRegistry, FirmwareBridge, type BridgeInferRequest, type FirmwareBridgeOptions, type InferAnswer, type ProfileInput } from '../src/index.ts';

export const APP_ID = 'b4c3e2f1-0a9b-4c8d-9e7f-6a5b4c3d2e1f';
export const ROOM = '0004a30b001c0530';
export const TRACKER = '0004a30b001c0531';
export const PUMP = '0004a30b001c0532';
export const VENDOR = '0004a30b001c0533';
export const STRANGER = '0004a30b001cffff';

export const COMFORT_LABELS = ['comfortable', 'too_warm', 'stuffy'];

export const comfortProfile: ProfileInput = {
  id: 'room-comfort',
  codec: { kind: 'lpp' },
  model: 'comfort-index',
  input: { kind: 'tensor', name: 'readings', fields: [{ path: 'temperature_1' }, { path: 'relative_humidity_2' }, { path: 'concentration_3' }] },
  output: { labels: COMFORT_LABELS, tensor: 'probabilities' },
  downlink: { fPort: 10, encoding: { kind: 'label-confidence' }, fallback: { kind: 'class-index' } },
};

/** A vendor codec whose downlink encoder writes 20 bytes: too big for US915 DR0 (11 bytes). */
export const vendorProfile: ProfileInput = {
  id: 'vendor-js',
  codec: {
    kind: 'js',
    source: `function decodeUplink(input) {
      if (input.bytes.length < 2) return { errors: ['payload too short'] };
      if (input.bytes[0] === 0xee) throw new Error('firmware 0xee not supported');
      return { data: { temperatureC: input.bytes[0] / 4, humidityPct: input.bytes[1] / 2, co2Ppm: 600 } };
    }
    function encodeDownlink(input) {
      var out = [input.data.classIndex];
      for (var i = 0; i < 19; i++) out.push(i);
      return { bytes: out };
    }`,
  },
  model: 'comfort-index',
  input: { kind: 'tensor', name: 'readings', fields: [{ path: 'temperatureC' }, { path: 'humidityPct' }, { path: 'co2Ppm' }] },
  output: { labels: COMFORT_LABELS },
  downlink: { fPort: 12, encoding: { kind: 'codec' }, fallback: { kind: 'class-index' } },
  location: { fixed: { lat: 40.7128, lng: -74.006 } },
};

export const pumpProfile: ProfileInput = {
  id: 'pump-binary',
  codec: { kind: 'binary', fields: [{ name: 'rmsG', offset: 0, type: 'uint16', scale: 0.001 }, { name: 'peakG', offset: 2, type: 'uint16', scale: 0.001 }, { name: 'temperatureC', offset: 4, type: 'int16', scale: 0.01 }] },
  model: 'comfort-index',
  input: { kind: 'tensor', name: 'readings', fields: [{ path: 'rmsG' }, { path: 'peakG' }, { path: 'temperatureC' }] },
  output: { labels: COMFORT_LABELS },
  downlink: { fPort: 11, encoding: { kind: 'probabilities' }, fallback: { kind: 'results-only' } },
};

export function newRegistry(): DeviceRegistry {
  const registry = new DeviceRegistry();
  registry.loadFleet({
    profiles: [comfortProfile, vendorProfile, pumpProfile],
    devices: [
      { devEui: ROOM, fleet: 'acme', profile: 'room-comfort' },
      { devEui: TRACKER, fleet: 'acme', profile: 'room-comfort' },
      { devEui: PUMP, fleet: 'acme', profile: 'pump-binary', location: { lat: 51.5, lng: -0.12 } },
      { devEui: VENDOR, fleet: 'acme', profile: 'vendor-js' },
    ],
  });
  return registry;
}

export interface Published {
  topic: string;
  payload: Uint8Array | string;
  qos: number;
}

export function newBridge(overrides: Partial<FirmwareBridgeOptions> & { answer?: (r: BridgeInferRequest) => InferAnswer } = {}) {
  const published: Published[] = [];
  const requests: BridgeInferRequest[] = [];
  const logs: string[] = [];
  let ids = 0;
  const answer =
    overrides.answer ??
    ((r: BridgeInferRequest): InferAnswer => ({
      id: r.id,
      model_name: r.model,
      model_version: '1.0.0',
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.1, 0.7, 0.2] }],
      node: { id: 'node-ams-1', cell: '871969ab4ffffff', distanceKm: 1.2 },
      timing: { placementMs: 0.1, nodeMs: 3, totalMs: 3.2 },
      receipt: { signature: 'test' },
    }));
  const bridge = new FirmwareBridge({
    registry: overrides.registry ?? newRegistry(),
    infer: async (r) => {
      requests.push(r);
      return answer(r);
    },
    publish: (topic, payload, options) => void published.push({ topic, payload, qos: options.qos }),
    clock: { nowMs: () => Date.parse('2025-03-01T12:00:00Z') },
    logger: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    ...overrides,
  });
  const on = (prefix: string) => published.filter((p) => p.topic.startsWith(prefix));
  const json = (p: Published) => JSON.parse(typeof p.payload === 'string' ? p.payload : new TextDecoder().decode(p.payload)) as Record<string, unknown>;
  return { bridge, published, requests, logs, on, json };
}

export const upTopic = (devEui: string, app = APP_ID) => `application/${app}/device/${devEui}/event/up`;
export const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
export const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
export const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
export const fromB64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** A ChirpStack v4 JSON uplink as its docs show it, with overridable fields. */
export function uplinkJson(o: { devEui?: string; dedup?: string; fCnt?: number; fPort?: number; data: Uint8Array; dr?: number; region?: string; deviceClass?: string; rxInfo?: unknown[]; extra?: Record<string, unknown> }) {
  return {
    deduplicationId: o.dedup ?? crypto.randomUUID(),
    time: '2025-03-01T11:59:59.512Z',
    deviceInfo: {
      tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
      tenantName: 'ChirpStack',
      applicationId: APP_ID,
      applicationName: 'rooms',
      deviceProfileId: 'cf3ee8b2-8b6f-4d8f-9d47-4d3b1c3ef1a1',
      deviceProfileName: 'LPP sensor',
      deviceName: 'room 1',
      devEui: o.devEui ?? ROOM,
      deviceClassEnabled: o.deviceClass ?? 'CLASS_A',
      tags: {},
    },
    devAddr: '00189440',
    adr: true,
    dr: o.dr ?? 5,
    fCnt: o.fCnt ?? 10,
    fPort: o.fPort ?? 85,
    confirmed: false,
    data: b64(o.data),
    rxInfo: o.rxInfo ?? [
      { gatewayId: '0016c001f153a14c', uplinkId: 4217106255, rssi: -36, snr: 10.5, channel: 2, rfChain: 0, location: { latitude: 52.3702, longitude: 4.8952, altitude: 3 }, context: 'EFwMtA==', metadata: { region_config_id: 'eu868', region_common_name: 'EU868' }, crcStatus: 'CRC_OK' },
      { gatewayId: '0016c001f153a14d', uplinkId: 17, rssi: -110, snr: -3, location: { latitude: 52.36, longitude: 4.885 } },
    ],
    txInfo: { frequency: 868100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
    regionConfigId: o.region ?? 'eu868',
    ...o.extra,
  };
}

/** Room LPP: temperature 27.2 °C (ch 1), humidity 48.5 % (ch 2), CO2 650 ppm (ch 3). */
export const ROOM_LPP = hex('01670110026861037d028a');
