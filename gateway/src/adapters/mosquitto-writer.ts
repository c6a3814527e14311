import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeviceRecord } from '../mqtt/device-credentials.ts';
import { mosquittoAclFile, mosquittoConfig, mosquittoPasswordFile, type BrokerAdminUser } from '../mqtt/mosquitto-files.ts';

/** Written atomically (temp file + rename) so a running Mosquitto never reads half a file on reload. */
async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode });
  await chmod(temp, mode);
  await rename(temp, file);
}

/**
 * Writes Mosquitto's `password_file`, `acl_file` and a `hexedge.conf` that points at them. The
 * password file holds only salted hashes, but is still kept from other users (0640: root and the
 * broker's group).
 */
export async function writeMosquittoFiles(options: {
  dir: string;
  devices: readonly DeviceRecord[];
  admins: readonly BrokerAdminUser[];
  port?: number;
  host?: string;
  user?: string;
}): Promise<{ passwordFile: string; aclFile: string; configFile: string }> {
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const files = { passwordFile: path.join(dir, 'password_file'), aclFile: path.join(dir, 'acl_file'), configFile: path.join(dir, 'hexedge.conf') };
  await writeAtomic(files.passwordFile, mosquittoPasswordFile(options), 0o640);
  await writeAtomic(files.aclFile, mosquittoAclFile(options), 0o644);
  await writeAtomic(files.configFile, mosquittoConfig({ dir, port: options.port ?? 1883, ...(options.host ? { host: options.host } : {}), ...(options.user ? { user: options.user } : {}) }), 0o644);
  return files;
}
