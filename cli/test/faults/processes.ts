import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { HEXEDGE_BIN } from '../dev-process.ts';

/** Long enough for a node to load ONNX Runtime on a busy 2-core machine; short enough to fail fast. */
export const START_TIMEOUT_MS = 30_000;
/** A process that ignores SIGTERM this long is killed: a test never waits on a hung child. */
const STOP_GRACE_MS = 5_000;

export interface Proc {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
  stop(): Promise<number | string>;
  /** SIGKILL, as a crash or an OOM kill would. */
  kill(): Promise<number | string>;
}

/**
 * Spawns a process and resolves once a stdout/stderr line matches `ready` (with the match), or
 * rejects with its output when it exits first or takes longer than `timeoutMs`.
 */
export function startProcess(options: { command: string; args: string[]; env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number; name: string }): Promise<Proc & { match: RegExpExecArray }> {
  const child = spawn(options.command, options.args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return exited;
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  };
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`${options.name}: no ready line within ${timeoutMs} ms:\n${lines.join('\n')}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${options.name} exited with ${code} before ready:\n${lines.join('\n')}`), { code, lines }));
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const match = options.ready.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve({ child, lines, exited, stop, kill, match });
        }
      });
    }
  });
}

/** `hexedge …` under this test's Node (the project's Node 22). */
export function startHexedge(options: { args: string[]; env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number; name: string }) {
  return startProcess({ ...options, command: process.execPath, args: [HEXEDGE_BIN, ...options.args] });
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, options: { timeoutMs?: number; everyMs?: number } = {}): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const value = await Promise.resolve(probe()).catch(() => undefined);
    if (value) return value as Exclude<T, false | null | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs ?? 15_000} ms waiting for ${what}`);
    await sleep(options.everyMs ?? 50);
  }
}
