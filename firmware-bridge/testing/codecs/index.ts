import { readFileSync } from 'node:fs';
import path from 'node:path';
import { multisenseTables } from './multisense-tables.ts';

/**
 * Example JS codecs written for HexEdge in The Things Network device repository's format (each a
 * `.js` codec and a `.yaml` definition with example vectors): `climate-sensor` (decode, normalize,
 * encode with its own fPort, decode downlinks, console) and `multisense`, a LARGE codec (> 200 KiB:
 * generated calibration and fault-text tables in front of multisense.js). For tests and the bench
 * (`@hexedge/firmware-bridge/testing`); not shipped to devices.
 */
export const EXAMPLE_CODECS_DIR = import.meta.dirname;

/** Codec files whose source is put together on load (generated tables in front of the logic). */
const GENERATED_PROLOGUE: Record<string, () => string> = { 'multisense.js': multisenseTables };

/** The codec source a profile would hold, e.g. `exampleCodecSource('multisense.js')`. */
export function exampleCodecSource(fileName: string): string {
  return (
    (GENERATED_PROLOGUE[fileName]?.() ?? '') + readFileSync(path.join(EXAMPLE_CODECS_DIR, fileName), 'utf8')
  );
}

/** One uplink the large codec decodes: 25 °C, 1013 hPa, 50 %, fault 17 (see multisense.yaml). */
export const MULTISENSE_UPLINK = { fPort: 5, bytes: [0x08, 0x00, 0x39, 0x09, 100, 0x00, 0x11] } as const;
