import { readFileSync } from 'node:fs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Long enough for a node to load ONNX Runtime on a busy 2-core machine; short enough to fail fast. */
export const START_TIMEOUT_MS = 30_000;
/** A process that ignores SIGTERM this long is killed: a test never waits on a hung child. */
const STOP_GRACE_MS = 5_000;

export interface Proc {
  child: ChildProcess;
  /** Every stdout and stderr line so far. */
  lines: string[];
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
  stop(): Promise<number | string>;
  /** SIGKILL, as a crash or an OOM kill would. */
  kill(): Promise<number | string>;
  /** Resolves with the first line (from now or already seen) matching `pattern`; rejects on exit or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * Spawns a process and resolves once a stdout/stderr line matches `ready` (with the match), or rejects
 * with its output when it exits first or takes longer than `timeoutMs`. Only this process is ever
 * signalled, by its own handle.
 */
export function startProcess(options: {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  ready: RegExp;
  timeoutMs?: number;
  name: string;
  cwd?: string;
  /** In a process group of its own (pgid = pid), so a test can signal the group as a terminal's Ctrl-C does. */
  detached?: boolean;
}): Promise<Proc & { match: RegExpExecArray }> {
  const child = spawn(options.command, options.args, {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.detached ? { detached: true } : {}),
  });
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return exited;
  };
  const kill = async () => {
    if (running()) child.kill('SIGKILL');
    return exited;
  };
  const waitForLine = (pattern: RegExp, timeoutMs = START_TIMEOUT_MS) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      for (const line of lines) {
        const m = pattern.exec(line);
        if (m) return resolve(m);
      }
      const timer = setTimeout(
        () => (
          listeners.delete(onLine),
          reject(
            new Error(
              `${options.name}: no line matching ${pattern} within ${timeoutMs} ms:\n${lines.slice(-40).join('\n')}`,
            ),
          )
        ),
        timeoutMs,
      );
      const onLine = (line: string) => {
        const m = pattern.exec(line);
        if (!m) return;
        clearTimeout(timer);
        listeners.delete(onLine);
        resolve(m);
      };
      listeners.add(onLine);
      void exited.then((code) => {
        if (!listeners.has(onLine)) return;
        clearTimeout(timer);
        listeners.delete(onLine);
        reject(
          Object.assign(
            new Error(
              `${options.name} exited with ${code} before a line matching ${pattern}:\n${lines.slice(-40).join('\n')}`,
            ),
            { code },
          ),
        );
      });
    });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const l of [...listeners]) l(line);
    });
  }
  const proc: Proc = { child, lines, exited, stop, kill, waitForLine };
  return waitForLine(options.ready, options.timeoutMs ?? START_TIMEOUT_MS).then(
    (match) => ({ ...proc, match }),
    async (err: Error) => {
      await kill();
      throw Object.assign(err, { lines });
    },
  );
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

/** Read- and write-class system calls a process has made so far, or undefined (gone, or not ours to read). */
export function syscallsOf(pid: number): { reads: number; writes: number } | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const reads = Number(/^syscr: (\d+)$/m.exec(io)?.[1]);
    const writes = Number(/^syscw: (\d+)$/m.exec(io)?.[1]);
    return Number.isFinite(reads) && Number.isFinite(writes) ? { reads, writes } : undefined;
  } catch {
    return undefined;
  }
}
