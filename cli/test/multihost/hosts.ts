import { execFile, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { HEXEDGE_BIN } from '@hexedge/test-kit';
import { startProcess, type Proc } from '@hexedge/test-kit';

const AGENT = path.join(import.meta.dirname, 'agent.ts');

/**
 * Each emulated host would be a machine of its own; here they share two cores with everything else
 * that runs (other test suites included). Once a process has started (at normal priority: start-up
 * is the CPU-heavy part), it runs round-robin real-time at a low priority, so that it answers when
 * its packet arrives rather than when some neighbour's time slice ends: round trips then measure the
 * emulated network, not the machine's load. The processes sleep between requests, and the kernel
 * keeps 5 % of each second for normal processes (sched_rt_runtime_us) whatever happens.
 */
export const HOST_RT_PRIORITY = 5;

export function raisePriority(pid: number): void {
  execFileSync('chrt', ['--all-tasks', '--rr', '--pid', String(HOST_RT_PRIORITY), String(pid)], {
    stdio: 'ignore',
  });
}

/** A command run inside a host's namespace: `ip netns exec` enters it and execs the command (same pid). */
export const inNamespace = (ns: string, command: string, args: string[]) => ({
  command: 'ip',
  args: ['netns', 'exec', ns, command, ...args],
});

/** A long-running `hexedge …` (gateway, oracle, node run) in a host's namespace, as an operator starts it there. */
export function startHexedgeIn(options: {
  ns: string;
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  ready: RegExp;
  timeoutMs?: number;
}): Promise<Proc & { match: RegExpExecArray }> {
  return startProcess({
    ...options,
    ...inNamespace(options.ns, process.execPath, [HEXEDGE_BIN, ...options.args]),
  });
}

/** A one-shot `hexedge …` (node init, broker acl): no network, so it runs where the test runs. */
export async function runHexedge(args: string[]): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [HEXEDGE_BIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return `${stdout}${stderr}`;
}

export interface Agent {
  ns: string;
  pid: number;
  call<T>(
    op: 'fetch' | 'tcpRtt' | 'series' | 'mqttRequest' | 'chirpstackUplink',
    args: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<T>;
  stop(): Promise<void>;
}

export interface FetchResult<B = unknown> {
  status: number;
  body: B;
  elapsedMs: number;
}

/** Starts agent.ts in a host's namespace: the test's hands and eyes on the emulated network. */
export function startAgent(ns: string): Promise<Agent> {
  const { command, args } = inNamespace(ns, process.execPath, [AGENT]);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const stderr: string[] = [];
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`agent in ${ns}: not ready within 15 s:\n${stderr.join('\n')}`)),
      15_000,
    );
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`agent in ${ns} exited:\n${stderr.join('\n')}`));
      for (const p of pending.values()) p.reject(new Error(`agent in ${ns} exited:\n${stderr.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as {
        ready?: boolean;
        id?: number;
        ok?: boolean;
        result?: unknown;
        error?: string;
      };
      if (message.ready) {
        clearTimeout(timer);
        resolve(agent);
        return;
      }
      const p = pending.get(message.id!);
      pending.delete(message.id!);
      if (message.ok) p?.resolve(message.result);
      else p?.reject(new Error(`agent in ${ns}: ${message.error}`));
    });
    const agent: Agent = {
      ns,
      pid: child.pid!,
      call<T>(op: string, callArgs: Record<string, unknown>, timeoutMs = 30_000) {
        const id = nextId++;
        return new Promise<T>((res, rej) => {
          const t = setTimeout(
            () => (pending.delete(id), rej(new Error(`agent in ${ns}: ${op} took over ${timeoutMs} ms`))),
            timeoutMs,
          );
          pending.set(id, {
            resolve: (v) => (clearTimeout(t), res(v as T)),
            reject: (e) => (clearTimeout(t), rej(e)),
          });
          child.stdin!.write(`${JSON.stringify({ id, op, args: callArgs })}\n`);
        });
      },
      async stop() {
        child.stdin!.end();
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(t);
      },
    };
  });
}
