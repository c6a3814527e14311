/**
 * Window layout of the `env-occupancy` model: the readings a LoRaWAN indoor-climate sensor reports
 * (Elsys ERS CO2, Milesight AM307/AM319, Netvox R718-class), shared by generator, features and graph.
 */

/** One uplink every 5 min, a common default that keeps a class-A device well inside duty-cycle limits. */
export const READING_INTERVAL_S = 300;
/** 12 readings = one hour: long enough to see CO2 approach its steady state at 1–6 air changes per hour. */
export const WINDOW_READINGS = 12;
export const WINDOW_DURATION_H = (WINDOW_READINGS * READING_INTERVAL_S) / 3600;

/** Channel order of the model input [batch, readings, channel], in the units the sensors report. */
export const CHANNELS = ['temperatureC', 'humidityPct', 'co2Ppm', 'lightLux', 'motionCount'] as const;
export type EnvChannel = (typeof CHANNELS)[number];
export const CHANNEL_COUNT = CHANNELS.length;

/** Per channel: mean, least-squares slope per hour, last reading, standard deviation. */
export const STATS_PER_CHANNEL = 4;
export const FEATURE_COUNT = CHANNEL_COUNT * STATS_PER_CHANNEL;

/**
 * Classes. "Poorly ventilated" means outdoor air below 7 L/s per person — EN 16798-1 category III's
 * person component, where steady-state CO2 sits ≈ 700 ppm above outdoors (≈ 1100 ppm): the level past
 * which the usual building guidance asks for more ventilation.
 */
export const LABELS = ['empty', 'occupied-ventilated', 'occupied-poorly-ventilated'] as const;
export type EnvLabel = (typeof LABELS)[number];
