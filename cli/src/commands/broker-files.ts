import { hashDevicePassword } from '@hexedge/gateway';
import { FileDeviceStore, writeMosquittoFiles } from '@hexedge/gateway/node';

/** Where `hexedge dev` reads device credentials from, and where the broker commands write them by default. */
export const DEFAULT_DEVICES_FILE = '.hexedge/gateway/devices.json';
/** The gateway's own broker user (its ingresses and firmware bridge log in as it). */
export const DEFAULT_GATEWAY_USER = 'hexedge-gateway';

/**
 * Mosquitto's files for the fabric, from the same sources the gateway reads: the devices in the
 * gateway's `devices.json` (client id bound, own topics only) and full-access users, whose passwords
 * are hashed here (never written in the clear). `hexedge broker acl` and `hexedge dev` both write
 * their broker's files through this one function.
 */
export async function writeBrokerFiles(options: {
  dir: string;
  devicesFile: string;
  /** Full-access users (the gateway, `hexedge dev`'s admin login) with their passwords. */
  users: readonly { username: string; password: string }[];
  port: number;
  host?: string;
  /** Mosquitto's `user`: whom it runs as once started as root. */
  runAs?: string;
  pluginPath?: string;
  extraLines?: readonly string[];
}): Promise<{ securityFile: string; configFile: string; devices: number }> {
  const devices = new FileDeviceStore(options.devicesFile).list();
  const admins = await Promise.all(
    options.users.map(async (u) => ({
      username: u.username,
      passwordHash: await hashDevicePassword(u.password),
    })),
  );
  const files = await writeMosquittoFiles({
    dir: options.dir,
    devices,
    admins,
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    ...(options.runAs ? { user: options.runAs } : {}),
    ...(options.pluginPath ? { pluginPath: options.pluginPath } : {}),
    ...(options.extraLines ? { extraLines: options.extraLines } : {}),
  });
  return { ...files, devices: devices.length };
}
