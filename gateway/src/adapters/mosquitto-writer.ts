import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeviceRecord } from '../mqtt/device-credentials.ts';
import {
  DYNSEC_FILE,
  DYNSEC_PLUGIN_PATHS,
  mosquittoConfig,
  mosquittoDynamicSecurity,
  type BrokerAdminUser,
} from '../mqtt/mosquitto-files.ts';

/** Written atomically (temp file + rename) so a running Mosquitto never reads half a file on reload. */
async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode });
  await chmod(temp, mode);
  await rename(temp, file);
}

/** The dynamic-security plugin where this machine's Mosquitto has it, or an error saying what to pass. */
export function findDynsecPlugin(candidates: readonly string[] = DYNSEC_PLUGIN_PATHS): string {
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `Mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so) is not in ${candidates.join(', ')}; install Mosquitto ≥ 2.0 or pass its path (--plugin)`,
    );
  }
  return found;
}

/**
 * Writes Mosquitto's `dynamic-security.json` (devices and gateway users, their salted password hashes,
 * client-id binding and ACLs) and a `hexedge.conf` that loads the plugin with it. The JSON holds only
 * hashes, but is still kept from other users (0640: root and the broker's group).
 */
export async function writeMosquittoFiles(options: {
  dir: string;
  devices: readonly DeviceRecord[];
  admins: readonly BrokerAdminUser[];
  port?: number;
  host?: string;
  user?: string;
  /** The dynamic-security plugin; default: found in the usual places (findDynsecPlugin). */
  pluginPath?: string;
  /** Further lines for hexedge.conf (see mosquittoConfig). */
  extraLines?: readonly string[];
}): Promise<{ securityFile: string; configFile: string }> {
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const files = { securityFile: path.join(dir, DYNSEC_FILE), configFile: path.join(dir, 'hexedge.conf') };
  const pluginPath = options.pluginPath ?? findDynsecPlugin();
  await writeAtomic(
    files.securityFile,
    `${JSON.stringify(mosquittoDynamicSecurity(options), null, 2)}\n`,
    0o640,
  );
  await writeAtomic(
    files.configFile,
    mosquittoConfig({
      dir,
      port: options.port ?? 1883,
      pluginPath,
      ...(options.host ? { host: options.host } : {}),
      ...(options.user ? { user: options.user } : {}),
      ...(options.extraLines ? { extraLines: options.extraLines } : {}),
    }),
    0o644,
  );
  return files;
}
