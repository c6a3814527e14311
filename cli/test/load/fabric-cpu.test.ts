import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  breakdownPerRequest,
  cpuSecondsOf,
  formatBreakdown,
  mergeProcessCpu,
  ownAndReapedChildrenCpuSeconds,
  roleOf,
  startFabricCpu,
} from './fabric-cpu.ts';

/** Real processes under this test's own: roles come from their command lines, CPU from /proc. */
const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A child whose command line looks like one of `hexedge dev`'s (argv only; it just burns CPU or waits). */
function child(args: string[], script: string): ChildProcess {
  const c = spawn(process.execPath, ['-e', script, '--', ...args], { stdio: 'ignore' });
  started.push(c);
  return c;
}

/** Burns 0.3 s of CPU after 0.3 s (the window opens meanwhile), then idles (or exits after 1.5 s more: `quit`). */
const burn = (quit: boolean) =>
  `setTimeout(() => { while (process.cpuUsage().user < 300_000); ${quit ? 'setTimeout(() => process.exit(0), 1500);' : ''} }, 300); setInterval(() => {}, 1000);`;

describe('fabric CPU per process', () => {
  it('names each process by its command line', () => {
    const node = child(
      ['hexedge.js', 'node', 'run', '--data-dir', '/tmp/x/nodes/paris', '--port', '0'],
      'setInterval(() => {}, 1000)',
    );
    const oracle = child(['/repo/cli/src/commands/dev-oracle.ts', '{}'], 'setInterval(() => {}, 1000)');
    const other = child(['something-else'], 'setInterval(() => {}, 1000)');
    expect(roleOf(process.pid, process.pid)).toEqual({ role: 'gateway', name: 'hexedge dev' });
    expect(roleOf(node.pid!, process.pid)).toEqual({ role: 'edge-node', name: 'paris' });
    expect(roleOf(oracle.pid!, process.pid)).toEqual({ role: 'oracle', name: 'oracle' });
    expect(roleOf(other.pid!, process.pid).role).toBe('other');
    expect(roleOf(2 ** 22 + 1, process.pid).role).toBe('other'); // beyond pid_max: gone
    expect(cpuSecondsOf(2 ** 22 + 1)).toBeUndefined();
  });

  it('counts this process and the children it has waited for (the load generator and autocannon)', async () => {
    const before = ownAndReapedChildrenCpuSeconds();
    const quitter = child(['autocannon'], burn(true));
    await once(quitter, 'exit');
    // The child's 0.3 s burn is counted once it has been waited for (its exit event).
    expect(ownAndReapedChildrenCpuSeconds() - before).toBeGreaterThanOrEqual(0.25);
  });

  it("counts a child's CPU over the window, and one that exits is reported as exited", async () => {
    const burner = child(['hexedge.js', 'node', 'run', '--data-dir', '/d/nodes/london'], burn(false));
    const quitter = child(['hexedge.js', 'node', 'run', '--data-dir', '/d/nodes/oslo'], burn(true));
    const window = startFabricCpu(process.pid);
    await once(quitter, 'exit');
    await vi.waitFor(() => expect(cpuSecondsOf(burner.pid!)).toBeGreaterThanOrEqual(0.3), {
      timeout: 20_000,
    });
    const processes = window.end();
    const london = processes.find((p) => p.pid === burner.pid);
    const oslo = processes.find((p) => p.pid === quitter.pid);
    expect(london).toMatchObject({ role: 'edge-node', name: 'london', exited: false });
    expect(london!.cpuS).toBeGreaterThanOrEqual(0.2);
    expect(oslo).toMatchObject({ role: 'edge-node', name: 'oslo', exited: true });
    // Read once a second while it lived: its burn (0.3 s, done 1.5 s before it exited) was seen.
    expect(oslo!.cpuS).toBeGreaterThanOrEqual(0.2);
    expect(processes.find((p) => p.pid === process.pid)).toMatchObject({ role: 'gateway', exited: false });

    const b = breakdownPerRequest(mergeProcessCpu([processes, processes]), 1000);
    expect(b.edgeNodes.perNode.london).toBeCloseTo((2 * london!.cpuS * 1e6) / 1000, 6);
    expect(b.totalUs).toBeCloseTo(b.gatewayUs + b.edgeNodes.sumUs + b.oracleUs + b.brokerUs + b.otherUs, 6);
    // This process read its children's /proc files meanwhile: read-class system calls, counted.
    expect(b.gatewaySyscallsPerRequest!.reads).toBeGreaterThan(0);
    expect(london!.syscalls).toBeDefined();
    expect(formatBreakdown(b)).toMatch(
      /^gateway \d+ \([\d.]+ read \+ [\d.]+ write syscalls\/request\), nodes \d+ \(.*london \d+.*\), oracle 0, broker 0/,
    );
  });
});
