/**
 * Maximum application payload (N, the FRMPayload size without FOpts) per region and data rate, from
 * LoRaWAN Regional Parameters RP002-1.0.4: EU868 Table 2-6 (EU433, IN865 and KR920 share its values
 * for DR0–5), US915 Table 2-31 (uplink DRs), AU915 Table 2-44 with UplinkDwellTime = 0. The bridge
 * checks the uplink's DR: ChirpStack sends a Class A downlink in RX1 at a DR derived from it, and a
 * payload that fits the uplink DR also fits RX2 in these regions.
 */
const EU868_N_BYTES = [51, 51, 51, 115, 242, 242, 242, 242];
const US915_N_BYTES = [11, 53, 125, 242, 242];
const AU915_N_BYTES = [51, 51, 51, 115, 242, 242, 242];

const REGIONS: Record<string, readonly number[]> = {
  eu868: EU868_N_BYTES,
  eu433: EU868_N_BYTES.slice(0, 8),
  in865: EU868_N_BYTES,
  kr920: EU868_N_BYTES.slice(0, 6),
  us915: US915_N_BYTES,
  au915: AU915_N_BYTES,
};

/** The smallest N of any region (US915 DR0): safe wherever the region or DR is unknown. */
export const SMALLEST_MAX_PAYLOAD_BYTES = 11;

export interface PayloadLimit {
  maxPayloadBytes: number;
  /** `eu868 DR5`, or why the conservative limit was used. */
  basis: string;
}

/** ChirpStack region config ids are the region name, optionally with a suffix (`us915_0`, `eu868`). */
export function getMaxPayloadBytes(options: { regionConfigId?: string; dr: number }): PayloadLimit {
  const id = (options.regionConfigId ?? '').toLowerCase();
  const region = Object.keys(REGIONS).find((r) => id === r || id.startsWith(`${r}_`) || id.startsWith(`${r}-`));
  const table = region ? REGIONS[region]! : undefined;
  const n = table?.[options.dr];
  if (region && n !== undefined) return { maxPayloadBytes: n, basis: `${region} DR${options.dr}` };
  const why = region ? `DR${options.dr} is not an uplink DR of ${region}` : `unknown region '${options.regionConfigId ?? ''}'`;
  return { maxPayloadBytes: SMALLEST_MAX_PAYLOAD_BYTES, basis: `${why}; using the smallest limit of any region` };
}
