/**
 * The Cayenne LPP type table. Types 0–136 are myDevices' Cayenne Low Power Payload reference
 * (IPSO object id − 3200); the extended types (voltage … switch) follow ElectronicCats' CayenneLPP
 * library, the de-facto extension that TTN's LPP formatter also decodes. Names are TTN's field names
 * (`temperature_3`), so decoded payloads look the same as TTN's and ChirpStack's LPP output.
 */
export interface LppPart {
  /** Sub-field name for multi-part types (accelerometer x/y/z, GPS); absent for scalar types. */
  key?: string;
  sizeBytes: number;
  signed: boolean;
  /** Value of one least-significant bit, in the type's unit. */
  resolution: number;
}

export interface LppType {
  type: number;
  name: string;
  unit: string;
  parts: LppPart[];
}

const scalar = (type: number, name: string, unit: string, sizeBytes: number, signed: boolean, resolution: number): LppType => ({
  type,
  name,
  unit,
  parts: [{ sizeBytes, signed, resolution }],
});

const axes = (type: number, name: string, unit: string, keys: string[], sizeBytes: number, signed: boolean, resolution: number): LppType => ({
  type,
  name,
  unit,
  parts: keys.map((key) => ({ key, sizeBytes, signed, resolution })),
});

export const LPP_TYPES: readonly LppType[] = [
  scalar(0, 'digital_in', '', 1, false, 1),
  scalar(1, 'digital_out', '', 1, false, 1),
  scalar(2, 'analog_in', '', 2, true, 0.01),
  scalar(3, 'analog_out', '', 2, true, 0.01),
  scalar(100, 'generic_sensor', '', 4, false, 1),
  scalar(101, 'luminosity', 'lux', 2, false, 1),
  scalar(102, 'presence', '', 1, false, 1),
  scalar(103, 'temperature', '°C', 2, true, 0.1),
  scalar(104, 'relative_humidity', '%', 1, false, 0.5),
  axes(113, 'accelerometer', 'g', ['x', 'y', 'z'], 2, true, 0.001),
  scalar(115, 'barometric_pressure', 'hPa', 2, false, 0.1),
  scalar(116, 'voltage', 'V', 2, false, 0.01),
  scalar(117, 'current', 'A', 2, false, 0.001),
  scalar(118, 'frequency', 'Hz', 4, false, 1),
  scalar(120, 'percentage', '%', 1, false, 1),
  scalar(121, 'altitude', 'm', 2, true, 1),
  scalar(125, 'concentration', 'ppm', 2, false, 1),
  scalar(128, 'power', 'W', 2, false, 1),
  scalar(130, 'distance', 'm', 4, false, 0.001),
  scalar(131, 'energy', 'kWh', 4, false, 0.001),
  scalar(132, 'direction', '°', 2, false, 1),
  scalar(133, 'unixtime', 's', 4, false, 1),
  axes(134, 'gyrometer', '°/s', ['x', 'y', 'z'], 2, true, 0.01),
  axes(135, 'colour', '', ['r', 'g', 'b'], 1, false, 1),
  {
    type: 136,
    name: 'gps',
    unit: '°, m',
    parts: [
      { key: 'latitude', sizeBytes: 3, signed: true, resolution: 0.0001 },
      { key: 'longitude', sizeBytes: 3, signed: true, resolution: 0.0001 },
      { key: 'altitude', sizeBytes: 3, signed: true, resolution: 0.01 },
    ],
  },
  scalar(142, 'switch', '', 1, false, 1),
];

export const LPP_BY_TYPE: ReadonlyMap<number, LppType> = new Map(LPP_TYPES.map((t) => [t.type, t]));
export const LPP_BY_NAME: ReadonlyMap<string, LppType> = new Map(LPP_TYPES.map((t) => [t.name, t]));

export function lppSizeBytes(t: LppType): number {
  return t.parts.reduce((n, p) => n + p.sizeBytes, 0);
}
