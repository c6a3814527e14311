import { readFileSync } from 'node:fs';
import path from 'node:path';
import { descendantsOf, syscallsOf } from '@hexedge/test-kit';

/**
 * The fabric's CPU over a measured window, process by process: `hexedge dev` itself (the gateway, and
 * the broker where it is the embedded aedes), its edge nodes (`hexedge node run` children), its oracle
 * (cli/src/commands/dev-oracle.ts, forked) and Mosquitto. From /proc/<pid>/stat utime + stime (all the
 * process's threads, worker threads included), read at the window's start, once a second meanwhile
 * and at its end: a process that exits in the window keeps the CPU last read and is reported as
 * exited, never an error; one that appears in the window (a restarted node) counts from zero.
 */
export type FabricRole = 'gateway' | 'edge-node' | 'oracle' | 'broker' | 'other';

export interface ProcessCpu {
  pid: number;
  role: FabricRole;
  /** The node's name (its data folder), or the program's. */
  name: string;
  cpuS: number;
  /**
   * Read- and write-class system calls (/proc/<pid>/io syscr, syscw): a count, not a time, so it does
   * not swing with what else the machine runs (writes per request show batching; undefined where
   * /proc/<pid>/io is not readable).
   */
  syscalls?: { reads: number; writes: number };
  /** Gone before the window's end: cpuS is what it had used at the last read (≤ 1 s before it exited). */
  exited: boolean;
}

/** Linux's USER_HZ: /proc's utime and stime are in 1/100 s on every architecture Node runs on. */
const CLOCK_TICKS_PER_S = 100;
const SAMPLE_INTERVAL_MS = 1_000;

/** CPU seconds (user + system) a process has used so far, or undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses: the fields after its last ')' are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) this process and the children it has waited for have used so far: the
 * load generator's own (the MQTT clients run here; autocannon is a child, counted once it exits), so a
 * run can say how much of the machine the load itself took.
 */
export function ownAndReapedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (
    (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_S
  );
}

/** What a descendant of `hexedge dev` is, from its command line (read once, when first seen). */
export function roleOf(pid: number, rootPid: number): { role: FabricRole; name: string } {
  if (pid === rootPid) return { role: 'gateway', name: 'hexedge dev' };
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return { role: 'other', name: `pid ${pid}` };
  }
  if (args.some((a) => path.basename(a).startsWith('dev-oracle.'))) return { role: 'oracle', name: 'oracle' };
  const run = args.findIndex((a, i) => a === 'node' && args[i + 1] === 'run');
  if (run >= 0) {
    const dir = args[args.indexOf('--data-dir') + 1];
    return { role: 'edge-node', name: dir ? path.basename(dir) : `node ${pid}` };
  }
  // Mosquitto runs under `setpriv --pdeathsig`, which execs it in place: the same pid.
  if (args.some((a) => path.basename(a) === 'mosquitto')) return { role: 'broker', name: 'mosquitto' };
  return { role: 'other', name: path.basename(args[0] ?? `pid ${pid}`) };
}

/** A measured window over `hexedge dev` and its descendants; `end()` stops it and gives each one's CPU. */
export function startFabricCpu(rootPid: number): { end(): ProcessCpu[] } {
  type Counters = { cpuS: number; syscalls: { reads: number; writes: number } | undefined };
  const seen = new Map<
    number,
    { role: FabricRole; name: string; start: Counters; last: Counters; gone: boolean }
  >();
  const read = (discover: boolean, atStart = false) => {
    const pids = new Set([...seen.keys(), ...(discover ? [rootPid, ...safeDescendants(rootPid)] : [])]);
    for (const pid of pids) {
      const known = seen.get(pid);
      if (known?.gone) continue;
      const cpuS = cpuSecondsOf(pid);
      if (cpuS === undefined) {
        if (known) known.gone = true;
        continue;
      }
      const now = { cpuS, syscalls: syscallsOf(pid) };
      if (known) known.last = now;
      // First seen at the window's start: counts from there; first seen later: started within it.
      else
        seen.set(pid, {
          ...roleOf(pid, rootPid),
          start: atStart ? now : { cpuS: 0, syscalls: { reads: 0, writes: 0 } },
          last: now,
          gone: false,
        });
    }
  };
  read(true, true);
  const timer = setInterval(() => read(false), SAMPLE_INTERVAL_MS);
  timer.unref();
  return {
    end() {
      clearInterval(timer);
      read(true);
      return [...seen].map(([pid, p]) => {
        const [a, b] = [p.start.syscalls, p.last.syscalls];
        return {
          pid,
          role: p.role,
          name: p.name,
          cpuS: p.last.cpuS - p.start.cpuS,
          ...(a && b ? { syscalls: { reads: b.reads - a.reads, writes: b.writes - a.writes } } : {}),
          exited: p.gone,
        };
      });
    },
  };
}

/** The descendants, or none where `ps` fails (the root's own CPU still counts). */
function safeDescendants(pid: number): number[] {
  try {
    return descendantsOf(pid);
  } catch {
    return [];
  }
}

export interface FabricCpuBreakdown {
  /** All of them, µs per answered request. */
  totalUs: number;
  gatewayUs: number;
  /** The gateway's process: system calls per answered request (reads, writes), where /proc says. */
  gatewaySyscallsPerRequest?: { reads: number; writes: number };
  edgeNodes: { sumUs: number; perNode: Record<string, number> };
  oracleUs: number;
  brokerUs: number;
  otherUs: number;
  /** Each process with its role and whether it exited in the window. */
  processes: (ProcessCpu & {
    usPerRequest: number;
    syscallsPerRequest?: { reads: number; writes: number };
  })[];
}

/** Several windows' processes as one list (the same pid's CPU added up). */
export function mergeProcessCpu(windows: ProcessCpu[][]): ProcessCpu[] {
  const byPid = new Map<number, ProcessCpu>();
  for (const w of windows)
    for (const p of w) {
      const held = byPid.get(p.pid);
      if (held) {
        held.cpuS += p.cpuS;
        held.syscalls =
          held.syscalls && p.syscalls
            ? {
                reads: held.syscalls.reads + p.syscalls.reads,
                writes: held.syscalls.writes + p.syscalls.writes,
              }
            : undefined;
        held.exited ||= p.exited;
      } else byPid.set(p.pid, { ...p });
    }
  return [...byPid.values()];
}

/** The CPU per answered request, by role and per node. */
export function breakdownPerRequest(processes: ProcessCpu[], answered: number): FabricCpuBreakdown {
  const per = (cpuS: number) => (cpuS * 1e6) / Math.max(1, answered);
  const sum = (role: FabricRole) =>
    per(processes.filter((p) => p.role === role).reduce((n, p) => n + p.cpuS, 0));
  const perNode: Record<string, number> = {};
  for (const p of processes.filter((q) => q.role === 'edge-node'))
    perNode[p.name] = (perNode[p.name] ?? 0) + per(p.cpuS);
  const perRequest = (c: { reads: number; writes: number } | undefined) =>
    c ? { reads: c.reads / Math.max(1, answered), writes: c.writes / Math.max(1, answered) } : undefined;
  const gatewaySyscalls = perRequest(processes.find((p) => p.role === 'gateway')?.syscalls);
  return {
    totalUs: per(processes.reduce((n, p) => n + p.cpuS, 0)),
    gatewayUs: sum('gateway'),
    ...(gatewaySyscalls ? { gatewaySyscallsPerRequest: gatewaySyscalls } : {}),
    edgeNodes: { sumUs: sum('edge-node'), perNode },
    oracleUs: sum('oracle'),
    brokerUs: sum('broker'),
    otherUs: sum('other'),
    processes: processes.map((p) => {
      const syscallsPerRequest = perRequest(p.syscalls);
      return { ...p, usPerRequest: per(p.cpuS), ...(syscallsPerRequest ? { syscallsPerRequest } : {}) };
    }),
  };
}

/** One line: `gateway 680, nodes 520 (a 130, b 128, …), oracle 200, broker 80 µs`, exited ones named. */
export function formatBreakdown(b: FabricCpuBreakdown): string {
  const f = (n: number) => n.toFixed(0);
  const nodes = Object.entries(b.edgeNodes.perNode)
    .map(([name, us]) => `${name} ${f(us)}`)
    .join(', ');
  const exited = b.processes.filter((p) => p.exited).map((p) => `${p.name} (pid ${p.pid})`);
  return (
    `gateway ${f(b.gatewayUs)}${
      b.gatewaySyscallsPerRequest
        ? ` (${b.gatewaySyscallsPerRequest.reads.toFixed(2)} read + ${b.gatewaySyscallsPerRequest.writes.toFixed(2)} write syscalls/request)`
        : ''
    }, nodes ${f(b.edgeNodes.sumUs)} (${nodes}), oracle ${f(b.oracleUs)}, broker ${f(b.brokerUs)}` +
    (b.otherUs > 0 ? `, other ${f(b.otherUs)}` : '') +
    ' µs' +
    (exited.length > 0 ? `; exited in the window: ${exited.join(', ')}` : '')
  );
}
