/**
 * A throwaway redis-server for the Redis peer: started by the suite on a free 127.0.0.1 port with no
 * persistence (`--save '' --appendonly no`), stopped afterwards. `startRedis` answers a reason string
 * instead when the binary is missing or too old (GEOSEARCH needs Redis ≥ 6.2), so the suite can skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { RespClient } from './resp-client.ts';

const START_TIMEOUT_MS = 10_000;
const MIN_VERSION = [6, 2];

export interface RedisServer {
  port: number;
  version: string;
  connect(): Promise<RespClient>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** `redis-server --version` → "7.0.15", or null when the binary cannot be run. */
function redisVersion(binary: string): string | null {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (out.error || out.status !== 0) return null;
  return /v=(\d+\.\d+\.\d+)/.exec(out.stdout)?.[1] ?? null;
}

export async function startRedis(binary = 'redis-server'): Promise<RedisServer | { skipped: string }> {
  const version = redisVersion(binary);
  if (!version) return { skipped: `${binary} not found on PATH (apt-get install -y redis-server)` };
  const [major, minor] = version.split('.').map(Number) as [number, number];
  if (major < MIN_VERSION[0]! || (major === MIN_VERSION[0] && minor < MIN_VERSION[1]!)) {
    return { skipped: `${binary} ${version} lacks GEOSEARCH (needs ≥ ${MIN_VERSION.join('.')})` };
  }
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A bench that dies half-way must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    process.off('exit', killOnExit);
  };

  // Ready once PING answers (the port may be taken between probe and spawn: then it exits).
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) return { skipped: `redis-server exited during start-up: ${log.trim().split('\n').pop()}` };
    try {
      const client = await RespClient.connect({ port });
      const pong = await client.send(['PING']);
      client.close();
      if (pong === 'PONG') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      return { skipped: `redis-server did not answer PING within ${START_TIMEOUT_MS} ms` };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, version, connect: () => RespClient.connect({ port }), stop };
}
