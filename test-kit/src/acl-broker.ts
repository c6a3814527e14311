import os from 'node:os';
import path from 'node:path';
import { hexedge } from './deployables.ts';
import { startMosquitto } from './mosquitto.ts';
import { freePort } from './ports.ts';
import type { Proc } from './processes.ts';

/**
 * A real Mosquitto on 127.0.0.1, configured as an operator configures it: `hexedge broker acl` writes
 * its config, password file and ACL into `dir` from the gateway's devices file (and the gateway's
 * broker password), on a free port; then it starts from those files.
 */
export async function startAclBroker(options: {
  /** The Mosquitto binary (`requirePart('mosquitto', …).path`). */
  binary: string;
  dir: string;
  devicesFile: string;
  gatewayPassword: string;
}): Promise<{ broker: Proc; port: number; url: string }> {
  const port = await freePort();
  await hexedge([
    'broker',
    'acl',
    '--out',
    options.dir,
    '--devices',
    options.devicesFile,
    '--gateway-password',
    options.gatewayPassword,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    // As root, Mosquitto drops to the user it is told: this one, who can read the private temp dir.
    '--run-as',
    os.userInfo().username,
  ]);
  const broker = await startMosquitto({
    binary: options.binary,
    configFile: path.join(options.dir, 'hexedge.conf'),
    port,
  });
  return { broker, port, url: `mqtt://127.0.0.1:${port}` };
}
