import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** The `hexedge` command as a user runs it (a path, not an import: dashboards import nothing of ours). */
const HEXEDGE_BIN = path.resolve(import.meta.dirname, '../../cli/bin/hexedge.js');

export interface DevProcess {
  child: ChildProcess;
  gatewayUrl: string;
  lines: string[];
}

/**
 * Starts `hexedge dev` and resolves once it has printed its ready line and the dashboard line after
 * it (the same parsing as cli/test/dev-process.ts, which a test here cannot import across projects).
 */
export function startDev(args: string[], timeoutMs = 120_000): Promise<DevProcess> {
  const child = spawn(process.execPath, [HEXEDGE_BIN, 'dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let gatewayUrl: string | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hexedge dev exited with ${code} before ready:\n${lines.join('\n')}`));
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        gatewayUrl ??= /ready: gateway (\S+) mqtt (\S+)/.exec(line)?.[1];
        if (gatewayUrl && line.startsWith('hexedge dev dashboard:')) {
          clearTimeout(timer);
          resolve({ child, gatewayUrl, lines });
        }
      });
    }
  });
}
