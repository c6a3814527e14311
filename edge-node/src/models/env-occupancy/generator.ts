/**
 * Synthetic one-hour windows of a room sensor, from mass and heat balances of a well-mixed room:
 *
 * - CO2: V·dC/dt = n·G − Q·(C − C_out). Each seated adult exhales G ≈ 0.0043–0.0052 L/s of CO2
 *   (Persily & de Jonge 2017); Q is outdoor-air supply in L/s. The solution relaxes exponentially
 *   to C_ss = C_out + n·G/Q with time constant τ = V/Q, so a poorly ventilated room climbs for hours.
 * - Humidity: the same balance for water vapour (≈ 40–70 g/h per person), turned into relative
 *   humidity with the Magnus formula for saturation vapour pressure at the room temperature.
 * - Temperature: the HVAC setpoint with a thermostat cycle, plus a first-order rise from ≈ 70 W of
 *   sensible heat per occupant, smaller when more outdoor air carries the heat away.
 * - Light: daylight (a half-sine over 06:00–18:00 scaled by orientation and cloud) plus ~300–500 lux
 *   of lighting, usually on when occupied (EN 12464 office task lighting 500 lux), sometimes left on.
 * - Motion: PIR trigger counts per interval, Poisson with a per-person rate; rare false triggers.
 * - Sensors: per-device offsets within datasheet accuracy, reading noise, and the resolution the
 *   payload carries (0.1 °C, 0.5 %RH, 1 ppm, 1 lux).
 */
import type { Rng } from '../../toolchain/prng.ts';
import { CHANNEL_COUNT, LABELS, READING_INTERVAL_S, WINDOW_READINGS, type EnvLabel } from './constants.ts';

export interface EnvWindow {
  /** Readings interleaved [reading][channel] in CHANNELS order, like the model input [12, 5]. */
  readings: Float32Array;
  label: EnvLabel;
}

const CEILING_HEIGHT_M = 2.7;
const LITRES_PER_M3 = 1000;
/** ≥ 8 L/s·person is comfortably above the 7 L/s boundary, ≤ 5 comfortably below: labels stay unambiguous. */
const GOOD_VENTILATION_LPS_PER_PERSON: [number, number] = [8, 20];
const POOR_VENTILATION_LPS_PER_PERSON: [number, number] = [1.5, 5];

/** Saturation water-vapour density in g/m³ at temperatureC (Magnus formula, Sonntag 1990 constants). */
export function saturationVapourDensityGPerM3(temperatureC: number): number {
  const pressurePa = 611.2 * Math.exp((17.62 * temperatureC) / (243.12 + temperatureC));
  const waterGasConstantJPerKgK = 461.5;
  return (pressurePa / (waterGasConstantJPerKgK * (temperatureC + 273.15))) * 1000;
}

/** Value at time t of a first-order system relaxing from `start` towards `target` with time constant tau. */
function relax(start: number, target: number, t: number, tau: number): number {
  return target + (start - target) * Math.exp(-t / tau);
}

const roundTo = (value: number, step: number): number => Math.round(value / step) * step;

export function generateEnvWindow(rng: Rng, label: EnvLabel): EnvWindow {
  const floorAreaM2 = rng.uniform(12, 60);
  const volumeL = floorAreaM2 * CEILING_HEIGHT_M * LITRES_PER_M3;
  const outdoorCo2Ppm = rng.uniform(400, 450);
  const occupied = label !== 'empty';
  // Offices plan ~4–10 m² per person; meeting rooms are denser.
  const people = occupied ? 1 + rng.int(Math.max(1, Math.floor(floorAreaM2 / 4))) : 0;
  const perPersonLps =
    label === 'occupied-poorly-ventilated'
      ? rng.uniform(...POOR_VENTILATION_LPS_PER_PERSON)
      : rng.uniform(...GOOD_VENTILATION_LPS_PER_PERSON);
  // An empty room still exchanges air: infiltration 0.2 ACH up to mechanical 4 ACH.
  const outdoorAirLps = occupied ? people * perPersonLps : (rng.uniform(0.2, 4) * volumeL) / 3600;
  const tauS = volumeL / outdoorAirLps;

  const co2PerPersonLps = rng.uniform(0.0043, 0.0052);
  const steadyCo2Ppm = outdoorCo2Ppm + (people * co2PerPersonLps * 1e6) / outdoorAirLps;
  // Occupied: people arrived 5–180 min before the window; empty: CO2 left by earlier occupants decays.
  const elapsedBeforeS = rng.uniform(5, 180) * 60;
  const startCo2Ppm = occupied
    ? outdoorCo2Ppm + rng.uniform(0, 150)
    : outdoorCo2Ppm + rng.uniform(0, 1) ** 2 * 1200;

  const outdoorVapourGPerM3 = rng.uniform(4, 10);
  const startVapourGPerM3 = outdoorVapourGPerM3 + (occupied ? rng.uniform(0, 0.5) : rng.uniform(0, 1.5));
  const vapourPerPersonGPerS = rng.uniform(40, 70) / 3600;
  const steadyVapourGPerM3 =
    outdoorVapourGPerM3 + (people * vapourPerPersonGPerS * LITRES_PER_M3) / outdoorAirLps;

  const setpointC = rng.uniform(19.5, 24);
  // Steady rise = sensible gain / heat-removal conductance: ≈ 10 W/K per m² of floor for walls plus HVAC
  // control (a phenomenological figure), and ρ·c_p = 1.2 W/K per L/s for outdoor air.
  const occupantRiseC = (people * 70 * rng.uniform(0.5, 1.5)) / (floorAreaM2 * 10 + outdoorAirLps * 1.2);
  const thermostatAmplitudeC = rng.uniform(0.1, 0.5);
  const thermostatPeriodS = rng.uniform(30, 90) * 60;
  const thermostatPhase = rng.uniform(0, 2 * Math.PI);

  const startHour = rng.uniform(0, 24);
  const daylightPeakLux = rng.uniform(30, 800);
  const lightsOn = occupied ? rng.next() < 0.85 : rng.next() < 0.1;
  const lampLux = rng.uniform(250, 500);
  const motionPerPerson = rng.uniform(0.3, 3);
  const falseTriggerRate = 0.02;

  const offsets = {
    temperatureC: rng.uniform(-0.3, 0.3),
    humidityPct: rng.uniform(-2, 2),
    co2Ppm: rng.uniform(-30, 30),
  };
  const readings = new Float32Array(WINDOW_READINGS * CHANNEL_COUNT);
  for (let r = 0; r < WINDOW_READINGS; r++) {
    const tS = elapsedBeforeS + r * READING_INTERVAL_S;
    const co2Ppm = relax(startCo2Ppm, steadyCo2Ppm, tS, tauS);
    const temperatureC =
      setpointC +
      occupantRiseC * (1 - Math.exp(-tS / 3600)) +
      thermostatAmplitudeC * Math.sin((2 * Math.PI * tS) / thermostatPeriodS + thermostatPhase);
    const vapourGPerM3 = relax(startVapourGPerM3, steadyVapourGPerM3, tS, tauS);
    const humidityPct = Math.min(100, (100 * vapourGPerM3) / saturationVapourDensityGPerM3(temperatureC));
    const hour = (startHour + (r * READING_INTERVAL_S) / 3600) % 24;
    const daylightLux = hour > 6 && hour < 18 ? daylightPeakLux * Math.sin((Math.PI * (hour - 6)) / 12) : 0;
    const lightLux = Math.max(
      0,
      (daylightLux + (lightsOn ? lampLux : 0)) * (1 + 0.05 * rng.normal()) + 2 * rng.normal(),
    );
    const motionCount = rng.poisson(people * motionPerPerson + falseTriggerRate);

    const row = r * CHANNEL_COUNT;
    readings[row] = roundTo(temperatureC + offsets.temperatureC + 0.05 * rng.normal(), 0.1);
    readings[row + 1] = roundTo(Math.max(0, humidityPct + offsets.humidityPct + 0.5 * rng.normal()), 0.5);
    readings[row + 2] = Math.round(co2Ppm + offsets.co2Ppm + 10 * rng.normal());
    readings[row + 3] = Math.round(lightLux);
    readings[row + 4] = motionCount;
  }
  return { readings, label };
}

export function generateEnvDataset(rng: Rng, count: number): EnvWindow[] {
  const windows: EnvWindow[] = [];
  for (let i = 0; i < count; i++) windows.push(generateEnvWindow(rng, LABELS[i % LABELS.length]));
  return windows;
}
