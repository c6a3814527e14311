import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mosquittoBinary } from '../faults/mosquitto.ts';

/** Set to 1 to skip the multi-host test where it cannot run (not root, no `ip netns`): it says so and why. */
export const SKIP_ENV = 'HEXEDGE_SKIP_MULTIHOST';

/** Why this machine cannot run the multi-host test, or undefined when it can. */
export function preflightProblem(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0)
    return `creating network namespaces and TAP devices needs root (this runs as uid ${process.getuid?.()})`;
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0)
    return `\`ip netns\` (iproute2) does not work here: ${ip.error?.message ?? ip.stderr.trim()}`;
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing: the kernel has no TUN/TAP support';
  for (const [tool, args, pkg] of [
    ['chrt', ['--version'], 'util-linux'],
    ['sysctl', ['--version'], 'procps'],
  ] as const) {
    const run = spawnSync(tool, args, { stdio: 'ignore' });
    if (run.error || run.status !== 0)
      return `${tool} (${pkg}) is needed: ${run.error?.message ?? `exit ${run.status}`}`;
  }
  const python = spawnSync('python3', ['-c', 'import fcntl, select, heapq'], { encoding: 'utf8' });
  if (python.error || python.status !== 0)
    return `python3 (standard library) is needed for the delaying switch: ${python.error?.message ?? python.stderr.trim()}`;
  if (!mosquittoBinary) return 'mosquitto is not installed (Debian package mosquitto)';
  return undefined;
}

const ip = (...args: string[]) =>
  execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Names of this run: `mh<owner pid in base 36>-<host key>`, so a later run can tell a crashed run's
 * leftovers (owner gone) from a run still going in another worktree (owner alive).
 */
export function runPrefix(pid = process.pid): string {
  return `mh${pid.toString(36)}`;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export function listNamespaces(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter(Boolean);
}

/** Kills whatever still runs in a namespace, then deletes it (its TAP goes with the switch, its veths with it). */
export function removeNamespace(ns: string): void {
  try {
    const pids = ip('netns', 'pids', ns).split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // no such namespace
  }
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

/** The run's directory under the temp dir: `hexedge-multihost-<run prefix>-XXXXXX`. */
export const RUN_DIR_PREFIX = 'hexedge-multihost-';

/**
 * Removes what earlier runs left when their process was killed before any cleanup could run (and the
 * switch, their watchdog, too): namespaces with whatever runs in them, and run directories, of owners
 * that are gone; also anything with this run's own prefix (a dead run with the same pid).
 */
export function sweepLeftovers(ownPrefix: string): string[] {
  const stale = (owner: string) => `mh${owner}` === ownPrefix || !isAlive(parseInt(owner, 36));
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const match = /^mh([0-9a-z]+)-[a-z]+$/.exec(ns);
    if (match && stale(match[1]!)) {
      removeNamespace(ns);
      removed.push(ns);
    }
  }
  for (const name of readdirSync(os.tmpdir())) {
    const match = new RegExp(`^${RUN_DIR_PREFIX}mh([0-9a-z]+)-`).exec(name);
    if (match && stale(match[1]!)) {
      rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

export interface HostNet {
  ns: string;
  tap: string;
  address: string;
}

/** `ip netns add`, loopback up, IPv6 off (no router solicitations or DAD flooding the switch). */
export function addNamespace(ns: string): void {
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  execFileSync(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'sysctl',
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ],
    { stdio: 'ignore' },
  );
}

/** Moves the switch's TAP into its host's namespace and gives it the host's address there (and only there). */
export function plugTap(host: HostNet, prefixBits: number): void {
  ip('link', 'set', 'dev', host.tap, 'netns', host.ns);
  ip('-n', host.ns, 'addr', 'add', `${host.address}/${prefixBits}`, 'dev', host.tap);
  ip('-n', host.ns, 'link', 'set', host.tap, 'up');
}

/** The cable cut: the host's only link goes down inside its namespace (the switch's writes to it fail with EIO). */
export function setLink(host: HostNet, state: 'up' | 'down'): void {
  ip('-n', host.ns, 'link', 'set', host.tap, state);
}

/**
 * Last-resort cleanup when the test process ends without afterAll (an uncaught error, SIGINT or
 * SIGTERM from the runner): kills the given processes and deletes the namespaces, synchronously.
 * Returns a function that unregisters it.
 */
export function trapCleanup(cleanup: () => void): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cleanup();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    once();
    process.kill(process.pid, signal);
  };
  process.once('exit', once);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    done = true;
    process.off('exit', once);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
