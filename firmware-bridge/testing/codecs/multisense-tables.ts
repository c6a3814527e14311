/**
 * The large example codec's tables, generated so the repository holds a formula, not 200 KiB of
 * numbers: an NTC thermistor curve per 12-bit ADC code (10 kΩ, β 3950, against a 10 kΩ divider:
 * code 2048 is exactly 25 °C), a pressure curve per 14-bit sensor code (linear 300–1100 hPa), and
 * 1024 fault texts. Deterministic; the vectors in multisense.yaml follow from these formulas.
 */
const ADC_CODES = 4096;
const PRESSURE_CODES = 16384;
const FAULT_CODES = 1024;
const BETA_K = 3950;
const T25_K = 298.15;
const SUBSYSTEMS = [
  'pump stage 1',
  'pump stage 2',
  'inlet valve',
  'outlet valve',
  'NTC channel',
  'pressure cell',
  'humidity cell',
  'radio',
  'battery',
  'clock',
  'flash',
  'bootloader',
  'enclosure',
  'heater',
  'fan',
  'relay',
];
const CONDITIONS = [
  'over range',
  'under range',
  'stuck',
  'drifting',
  'open circuit',
  'short circuit',
  'over temperature',
  'under voltage',
  'calibration lost',
  'checksum mismatch',
  'timeout',
  'no response',
  'noise above limit',
  'self-test failed',
  'tamper',
  'watchdog reset',
];

export function ntcCentiC(adc: number): number {
  const ratio = adc / (ADC_CODES - adc);
  const kelvin = 1 / (1 / T25_K + Math.log(ratio) / BETA_K);
  return Math.round((kelvin - 273.15) * 100);
}

export function pressureDeciHpa(code: number): number {
  return Math.round(3000 + (code * 8000) / (PRESSURE_CODES - 1));
}

export function faultText(code: number): string {
  const id = code.toString(16).padStart(4, '0').toUpperCase();
  return `F${id}: ${SUBSYSTEMS[code % 16]} ${CONDITIONS[(code >> 4) % 16]} (severity ${(code >> 8) % 4}); see the service manual, section ${1 + (code % 7)}.${1 + (code % 5)}, and reset the unit if it persists`;
}

/** `var NTC_CENTI_C = [...]; var PRESSURE_DECI_HPA = [...]; var FAULT_TEXT = [...];` */
export function multisenseTables(): string {
  const ntc = Array.from({ length: ADC_CODES }, (_, adc) => (adc === 0 ? 0 : ntcCentiC(adc)));
  const pressure = Array.from({ length: PRESSURE_CODES }, (_, code) => pressureDeciHpa(code));
  const faults = Array.from({ length: FAULT_CODES }, (_, code) => faultText(code));
  return `var NTC_CENTI_C = ${JSON.stringify(ntc)};\nvar PRESSURE_DECI_HPA = ${JSON.stringify(pressure)};\nvar FAULT_TEXT = ${JSON.stringify(faults)};\n`;
}
