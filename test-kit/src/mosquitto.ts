import { startProcess, type Proc } from './processes.ts';

/**
 * A real Mosquitto from config files written by the project (`hexedge broker acl`'s writer), on the
 * port those files name; ready when it logs that it listens. Restartable at the same port (a test of
 * a broker restart calls `startMosquitto` again with the same files).
 */
export function startMosquitto(options: {
  binary: string;
  configFile: string;
  port: number;
  timeoutMs?: number;
}): Promise<Proc> {
  return startProcess({
    name: 'mosquitto',
    command: options.binary,
    args: ['-c', options.configFile, '-v'],
    ready: new RegExp(`Opening ipv4 listen socket on port ${options.port}`),
    timeoutMs: options.timeoutMs ?? 5_000,
  });
}
