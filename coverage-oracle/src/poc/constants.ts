/**
 * Helium's proof-of-coverage defaults, as the IoT verifier applies them (helium/oracles,
 * `iot_verifier/src/poc.rs`, `runner.rs`, `entropy.rs`; HIP-15 and HIP-17). Each is the verifier's
 * value so a round judged here is judged as Helium would judge it.
 */

/** A beacon or witness counts only from its entropy's start to this long after (ENTROPY_LIFESPAN, 180 s). */
export const ENTROPY_LIFESPAN_MS = 180 * 1000;
/** One beacon per bucket of this length (Helium's `beacon_interval`, 6 h): a second one in the same bucket is irregular. */
export const BEACON_INTERVAL_MS = 6 * 60 * 60 * 1000;
/** A witness heard later than this after the beacon arrived is too late (MAX_BEACON_TO_WITNESS_LAG). */
export const MAX_BEACON_TO_WITNESS_LAG_MS = 4000;
/** When witnesses reach the oracle before the beacon, each must follow the first witness within this (MAX_WITNESS_LAG). */
export const MAX_WITNESS_LAG_MS = 1500;
/** LoRa channels are 125 kHz wide; a witness more than 100 kHz off the beacon's frequency heard something else. */
export const MAX_FREQUENCY_OFFSET_HZ = 100 * 1000;
/** Witnesses closer than 8 res-11 cells (≈ 8 × 50 m between res-11 centres) prove no coverage (POC_CELL_DISTANCE_MINIMUM). */
export const MIN_WITNESS_CELL_DISTANCE = 8;
/** The resolution whose parents the minimum cell distance is counted between (POC_CELL_PARENT_RES). */
export const WITNESS_CELL_PARENT_RESOLUTION = 11;
/**
 * Witnesses farther than this are implausible for a LoRa link (POC_DISTANCE_LIMIT). Helium rounds the
 * distance to whole metres and compares whole kilometres (`metres / 1000 > 100`), so anything under
 * 101 km passes; this check does the same.
 */
export const MAX_WITNESS_DISTANCE_KM = 100;
/** Speed of light in air, m/s, as the verifier's free-space path loss uses it (C = 2.998e8). */
export const SPEED_OF_LIGHT_IN_AIR_M_PER_S = 2.998e8;
/** At most this many valid witnesses are rewarded per beacon, earliest received first (max_witnesses_per_poc). */
export const MAX_REWARDED_WITNESSES = 14;
/** HIP-15: witnesses up to this count earn a full unit each; the beaconer earns count / redundancy. */
export const WITNESS_REDUNDANCY = 4;
/** HIP-15: each witness beyond the redundancy is worth this factor less than the one before. */
export const POC_REWARD_DECAY_RATE = 0.8;
/** HIP-15: the beaconer's reward unit never exceeds this (hip15_tx_reward_unit_cap). */
export const BEACONER_REWARD_UNIT_CAP = 2;
/** Reward units and density scales are rounded to this many decimals (Helium's SCALING_PRECISION). */
export const SCALING_PRECISION_DIGITS = 4;
/** A beaconer whose hex is missing from the density map is scaled by this (DEFAULT_TX_SCALE, 20 %). */
export const DEFAULT_HEX_SCALE = 0.2;
/** Asserted hotspot locations are res-12 cells, as on Helium. */
export const HOTSPOT_CELL_RESOLUTION = 12;
