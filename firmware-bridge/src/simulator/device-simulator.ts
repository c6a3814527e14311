import type { LatLng } from '@hexedge/protocol';
import { encodeBinary } from '../codecs/binary-schema.ts';
import { encodeLpp } from '../codecs/lpp.ts';
import { profileSchema } from '../registry/profile-schema.ts';
import { DEMO_APPLICATION_ID, DEMO_DEVICES, demoFleetFile, VIBRATION_FRAGMENTS, VIBRATION_SAMPLES_PER_FRAGMENT } from './demo-fleet.ts';
import { nextRoomReading, receptionsAt, seededRandom, uuidFrom, vibrationBurst, type MachineState, type RoomReading, type RoomScenario } from './signals.ts';
import { chirpstackUplinkJson } from './uplink-event.ts';

export interface SimulatedMessage {
  topic: string;
  payload: Uint8Array;
  /** Simulated time the uplink was received. */
  atMs: number;
}

/** One reading every 5 min, what env-occupancy expects. */
export const ROOM_INTERVAL_MS = 300_000;
/** One vibration capture every 10 min; its fragments follow 2 s apart. */
export const VIBRATION_INTERVAL_MS = 600_000;
const FRAGMENT_SPACING_MS = 2_000;

interface Room {
  devEui: string;
  scenario: RoomScenario;
  position: LatLng;
  gps: boolean;
  reading?: RoomReading;
}

/**
 * Plays the demo fleet as ChirpStack v4 JSON uplink events on `application/{id}/device/{devEui}/event/up`.
 * Runtime-neutral and deterministic for a seed: `hexedge dev` calls `advanceTo(simulatedNowMs)` on a
 * timer and publishes what it returns; the time scale is the caller's choice.
 */
export class DeviceSimulator {
  readonly applicationId: string;
  readonly #random: () => number;
  readonly #fCnt = new Map<string, number>();
  readonly #rooms: Room[] = [
    { devEui: DEMO_DEVICES.roomFixed, scenario: 'occupied-ventilated', position: { lat: 52.3731, lng: 4.8922 }, gps: false },
    { devEui: DEMO_DEVICES.roomGateways, scenario: 'occupied-poorly-ventilated', position: { lat: 52.3655, lng: 4.8975 }, gps: false },
    { devEui: DEMO_DEVICES.roomComfortGps, scenario: 'empty', position: { lat: 52.3745, lng: 4.9021 }, gps: true },
  ];
  readonly #vibrationFields = profileSchema.parse(demoFleetFile().profiles!.find((p) => p.id === 'vibration-burst')).codec;
  #nextRoomMs: number;
  #nextCaptureMs: number;
  #captureId = 0;

  constructor(options: { startMs: number; seed?: number; applicationId?: string }) {
    this.applicationId = options.applicationId ?? DEMO_APPLICATION_ID;
    this.#random = seededRandom(options.seed ?? 1);
    this.#nextRoomMs = options.startMs;
    this.#nextCaptureMs = options.startMs;
  }

  /** Every uplink due up to `nowMs`, oldest first. */
  advanceTo(nowMs: number): SimulatedMessage[] {
    const out: SimulatedMessage[] = [];
    while (this.#nextRoomMs <= nowMs || this.#nextCaptureMs <= nowMs) {
      if (this.#nextRoomMs <= this.#nextCaptureMs) {
        for (const room of this.#rooms) out.push(this.#roomUplink(room, this.#nextRoomMs));
        this.#nextRoomMs += ROOM_INTERVAL_MS;
      } else {
        out.push(...this.#capture(this.#nextCaptureMs));
        this.#nextCaptureMs += VIBRATION_INTERVAL_MS;
      }
    }
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  #roomUplink(room: Room, atMs: number): SimulatedMessage {
    room.reading = nextRoomReading({ ...(room.reading ? { previous: room.reading } : {}), scenario: room.scenario, random: this.#random });
    const r = room.reading;
    const lpp = encodeLpp({
      temperature_1: r.temperatureC,
      relative_humidity_2: r.humidityPct,
      concentration_3: r.co2Ppm,
      luminosity_4: r.lightLux,
      generic_sensor_5: r.motionCount,
      ...(room.gps ? { gps_6: { latitude: room.position.lat, longitude: room.position.lng, altitude: 4 } } : {}),
    });
    return this.#uplink({ devEui: room.devEui, atMs, fPort: 85, data: lpp.data!, dr: 0, position: room.position });
  }

  #capture(atMs: number): SimulatedMessage[] {
    // Alternate healthy and imbalanced captures so the demo shows both answers.
    const state: MachineState = this.#captureId % 2 === 0 ? 'normal' : 'imbalance';
    const captureId = this.#captureId++ % 256;
    const burst = vibrationBurst({ state, samples: VIBRATION_SAMPLES_PER_FRAGMENT * VIBRATION_FRAGMENTS, sampleRateHz: 3200, random: this.#random });
    const fields = this.#vibrationFields.kind === 'binary' ? this.#vibrationFields.fields : [];
    const out: SimulatedMessage[] = [];
    for (let f = 0; f < VIBRATION_FRAGMENTS; f++) {
      const slice = (a: number[]) => a.slice(f * VIBRATION_SAMPLES_PER_FRAGMENT, (f + 1) * VIBRATION_SAMPLES_PER_FRAGMENT);
      const bytes = encodeBinary({ captureId, fragmentIndex: f, alarm: 0, bearingTemperatureC: 41.5, x: slice(burst.x), y: slice(burst.y), z: slice(burst.z) }, fields);
      // 196-byte fragments need DR4 or faster in EU868 (RP002: 242 bytes); the pump room has a hotspot nearby.
      out.push(this.#uplink({ devEui: DEMO_DEVICES.vibration, atMs: atMs + f * FRAGMENT_SPACING_MS, fPort: 20, data: bytes.data!, dr: 5, position: { lat: 52.3905, lng: 4.8405 } }));
    }
    return out;
  }

  #uplink(o: { devEui: string; atMs: number; fPort: number; data: Uint8Array; dr: number; position: LatLng }): SimulatedMessage {
    const fCnt = this.#fCnt.get(o.devEui) ?? 0;
    this.#fCnt.set(o.devEui, fCnt + 1);
    const event = chirpstackUplinkJson({
      deduplicationId: uuidFrom(this.#random),
      timeMs: o.atMs,
      applicationId: this.applicationId,
      devEui: o.devEui,
      fCnt,
      fPort: o.fPort,
      data: o.data,
      dr: o.dr,
      regionConfigId: 'eu868',
      receptions: receptionsAt({ position: o.position, random: this.#random }),
    });
    return { topic: `application/${this.applicationId}/device/${o.devEui}/event/up`, payload: new TextEncoder().encode(JSON.stringify(event)), atMs: o.atMs };
  }
}
