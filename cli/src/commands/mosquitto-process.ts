import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** Mosquitto gets this long to save its persistence file after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
/** From spawn to Mosquitto's "running" line: it opens its listeners in milliseconds. */
const START_TIMEOUT_MS = 10_000;
const SETPRIV = '/usr/bin/setpriv';
/** Where distributions put the broker (Debian: /usr/sbin), then the PATH. */
const MOSQUITTO_CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

/** The mosquitto binary on this machine, or undefined. */
export function findMosquitto(): string | undefined {
  const inPath = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'mosquitto'));
  return [...MOSQUITTO_CANDIDATES, ...inPath].find((p) => existsSync(p));
}

/**
 * A parent-death signal for the child (util-linux `setpriv --pdeathsig`): if `hexedge dev` is killed
 * outright (SIGKILL, OOM), Mosquitto gets SIGTERM instead of holding the MQTT port as an orphan.
 */
function lifeline(): string[] {
  if (!existsSync(SETPRIV)) return [];
  const help = spawnSync(SETPRIV, ['--help'], { encoding: 'utf8' });
  return help.stdout?.includes('--pdeathsig') ? [SETPRIV, '--pdeathsig', 'TERM', '--'] : [];
}

export interface MosquittoProcess {
  /** The version from Mosquitto's "running" line. */
  version: string;
  readonly exited: boolean;
  stop(): Promise<void>;
}

/**
 * Runs `mosquitto -c configFile` as a child process, every output line passed to `log`, and resolves
 * once Mosquitto says it is running (its listeners are open then), or rejects with its last lines
 * (a port in use named as such).
 */
export async function spawnMosquitto(options: {
  binary: string;
  configFile: string;
  port: number;
  log: (line: string) => void;
}): Promise<MosquittoProcess> {
  const [command, ...prefix] = [...lifeline(), options.binary];
  const child = spawn(command!, [...prefix, '-c', options.configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited = false;
  const done = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => ((exited = true), resolve(code ?? signal ?? -1))),
  );
  child.once('error', (err) => options.log(`[mosquitto] could not start ${options.binary}: ${err.message}`));
  const lines: string[] = [];
  let markRunning!: (version: string) => void;
  const running = new Promise<string>((resolve) => (markRunning = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 40) lines.shift();
      const m = /^mosquitto version (\S+) running/.exec(line);
      if (m) markRunning(m[1]!);
      options.log(`[mosquitto] ${line}`);
    });
  }
  let timer: NodeJS.Timeout | undefined;
  const failed = Promise.race([
    done.then((code) => `exited with ${code}`),
    new Promise<string>(
      (resolve) =>
        (timer = setTimeout(() => resolve(`not running within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS)),
    ),
  ]);
  const outcome = await Promise.race([
    running.then((version) => ({ version })),
    failed.then((why) => ({ why })),
  ]);
  clearTimeout(timer);
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await done;
    clearTimeout(kill);
  };
  if ('why' in outcome) {
    await stop();
    if (lines.some((l) => /address already in use/i.test(l)))
      throw Object.assign(
        new Error(`MQTT port ${options.port} is already in use; pick another with --mqtt-port`),
        {
          code: 'EADDRINUSE',
        },
      );
    throw new Error(`mosquitto -c ${options.configFile} ${outcome.why}: ${lines.slice(-5).join(' | ')}`);
  }
  return {
    version: outcome.version,
    get exited() {
      return exited;
    },
    stop,
  };
}
