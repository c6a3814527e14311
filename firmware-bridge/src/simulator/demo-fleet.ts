import type { FleetFileInput } from '../registry/profile-schema.ts';

/**
 * The fleet `hexedge dev` plays: three LPP room sensors (env-occupancy, one per location method) plus
 * one for comfort-index, and a vibration sensor with custom firmware that uploads a 512-sample burst
 * in 16 fragments (vibration-anomaly).
 */
export const DEMO_FLEET = 'demo';
export const DEMO_APPLICATION_ID = '7d0b9c2e-5c1a-4f0e-b6a3-2f9d8e4c1a00';

export const DEMO_DEVICES = {
  roomFixed: 'a84041000181c001',
  roomGateways: 'a84041000181c002',
  roomComfortGps: 'a84041000181c003',
  vibration: '70b3d57ed0041a01',
} as const;

/** Vibration firmware layout: header, then 32 interleaved x/y/z int16 samples (±8 g, 1/4096 g per LSB). */
export const VIBRATION_SAMPLES_PER_FRAGMENT = 32;
export const VIBRATION_FRAGMENTS = 16;
export const VIBRATION_G_PER_LSB = 1 / 4096;
export const VIBRATION_PAYLOAD_BYTES = 4 + VIBRATION_SAMPLES_PER_FRAGMENT * 3 * 2;

const ENV_LABELS = ['empty', 'occupied-ventilated', 'occupied-poorly-ventilated'];

export function demoFleetFile(): FleetFileInput {
  const axis = (name: string, offset: number) => ({ name, offset, type: 'int16' as const, endian: 'little' as const, scale: VIBRATION_G_PER_LSB, count: VIBRATION_SAMPLES_PER_FRAGMENT, stride: 6 });
  return {
    profiles: [
      {
        id: 'room-env-lpp',
        description: 'LPP indoor-climate sensor → env-occupancy over the last hour',
        codec: { kind: 'lpp' },
        model: 'env-occupancy',
        input: {
          kind: 'reading-window',
          readings: 12,
          readingIntervalS: 300,
          fields: { temperatureC: 'temperature_1', humidityPct: 'relative_humidity_2', co2Ppm: 'concentration_3', lightLux: 'luminosity_4', motionCount: 'generic_sensor_5' },
        },
        output: { labels: ENV_LABELS },
        downlink: { fPort: 10, encoding: { kind: 'label-confidence' }, fallback: { kind: 'class-index' } },
      },
      {
        id: 'room-comfort-lpp',
        description: 'LPP indoor-climate sensor with GPS → comfort-index on every reading',
        codec: { kind: 'lpp' },
        model: 'comfort-index',
        input: { kind: 'tensor', name: 'readings', fields: [{ path: 'temperature_1' }, { path: 'relative_humidity_2' }, { path: 'concentration_3' }] },
        output: { labels: ['comfortable', 'too_warm', 'stuffy'], tensor: 'probabilities' },
        downlink: { fPort: 10, encoding: { kind: 'probabilities' }, fallback: { kind: 'class-index' } },
      },
      {
        id: 'vibration-burst',
        description: 'Custom firmware: 512 samples at 3200 Hz in 16 fragments → vibration-anomaly',
        codec: {
          kind: 'binary',
          fields: [
            { name: 'captureId', offset: 0, type: 'uint8' },
            { name: 'fragmentIndex', offset: 1, type: 'uint8', bits: { start: 0, length: 5 } },
            { name: 'alarm', offset: 1, type: 'uint8', bits: { start: 7, length: 1 } },
            { name: 'bearingTemperatureC', offset: 2, type: 'int16', scale: 0.01 },
            axis('x', 4),
            axis('y', 6),
            axis('z', 8),
          ],
        },
        model: 'vibration-anomaly',
        input: { kind: 'sample-burst', samples: VIBRATION_SAMPLES_PER_FRAGMENT * VIBRATION_FRAGMENTS, sampleRateHz: 3200, captureField: 'captureId', fragmentField: 'fragmentIndex', axes: { x: 'x', y: 'y', z: 'z' } },
        output: { labels: ['normal', 'imbalance', 'bearing-fault', 'misalignment'] },
        downlink: { fPort: 11, confirmed: true, encoding: { kind: 'label-confidence' } },
      },
    ],
    devices: [
      { devEui: DEMO_DEVICES.roomFixed, fleet: DEMO_FLEET, profile: 'room-env-lpp', name: 'meeting room 1', location: { lat: 52.3731, lng: 4.8922 } },
      { devEui: DEMO_DEVICES.roomGateways, fleet: DEMO_FLEET, profile: 'room-env-lpp', name: 'open office' },
      { devEui: DEMO_DEVICES.roomComfortGps, fleet: DEMO_FLEET, profile: 'room-comfort-lpp', name: 'site cabin (GPS)' },
      { devEui: DEMO_DEVICES.vibration, fleet: DEMO_FLEET, profile: 'vibration-burst', name: 'pump 3 bearing', location: { lat: 52.3905, lng: 4.8405 } },
    ],
  };
}
