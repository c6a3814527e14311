import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface SwitchStats {
  framesIn: number;
  framesOut: number;
  flooded: number;
  droppedLinkDown: number;
  droppedOther: number;
  /** How late frames left compared with their due time (arrival + the pair's delay), in ms. */
  latenessMs: { p50: number | null; p99: number | null; max: number | null; samples: number };
}

export interface RunningSwitch {
  pid: number;
  stats(): Promise<SwitchStats>;
  /** Closes its stdin: the switch exits and its TAP devices disappear from every namespace. */
  stop(): Promise<void>;
}

/**
 * Starts switch.py with one TAP per host (created in this namespace; the caller moves each into its
 * host's namespace) and the one-way delay matrix. Resolves once every TAP exists.
 */
export async function startSwitch(options: {
  /** The run's directory: the switch's config goes there, and the switch removes it if the test dies. */
  dir: string;
  taps: string[];
  delayMs: number[][];
  /** The run's namespaces, which the switch empties and deletes if the test dies (see switch.py). */
  namespaces: string[];
}): Promise<RunningSwitch> {
  const configFile = path.join(options.dir, 'switch.json');
  const config = {
    ports: options.taps,
    delayMs: options.delayMs,
    namespaces: options.namespaces,
    runDir: options.dir,
  };
  await writeFile(configFile, JSON.stringify(config));
  const child = spawn('python3', [path.join(import.meta.dirname, 'switch.py'), configFile], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) =>
    waiters.length ? waiters.shift()!(line) : lines.push(line),
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const nextLine = (what: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      if (lines.length) return resolve(lines.shift()!);
      const waiter = (line: string) => (clearTimeout(timer), resolve(line));
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`switch: no ${what} within ${timeoutMs} ms; stderr:\n${stderr.join('\n')}`));
      }, timeoutMs);
      waiters.push(waiter);
      void exited.then(
        (code) => (
          clearTimeout(timer),
          reject(new Error(`switch exited with ${code}:\n${stderr.join('\n')}`))
        ),
      );
    });
  const ready = await nextLine('ready line', 5_000);
  if (ready !== 'ready') throw new Error(`switch: expected "ready", got ${JSON.stringify(ready)}`);
  return {
    pid: child.pid!,
    async stats() {
      child.stdin!.write('stats\n');
      return JSON.parse(await nextLine('stats', 5_000)) as SwitchStats;
    },
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
