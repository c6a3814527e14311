import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const HEXEDGE_BIN = path.resolve(import.meta.dirname, '../bin/hexedge.js');

export interface DevProcess {
  child: ChildProcess;
  gatewayUrl: string;
  mqttUrl: string;
  lines: string[];
}

/** Starts `hexedge dev` as a user would and resolves once it prints its `ready` line. */
export function startDev(args: string[], timeoutMs = 90_000): Promise<DevProcess> {
  const child = spawn(process.execPath, [HEXEDGE_BIN, 'dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hexedge dev exited with ${code} before ready:\n${lines.join('\n')}`));
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const m = /ready: gateway (\S+) mqtt (\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve({ child, gatewayUrl: m[1]!, mqttUrl: m[2]!, lines });
        }
      });
    }
  });
}

/** Every descendant pid of a process (children, grandchildren…), from `ps`. */
export function descendantsOf(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const pairs = out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [p, pp] of pairs) {
      if (pp !== parent) continue;
      found.push(p);
      walk(p);
    }
  };
  walk(pid);
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
