/**
 * The network simulator (@hexedge/simulator) as a bench suite: real placement, the gateway's failover
 * walk and the oracle's trust code on a simulated clock. Quick: 10k nodes, 3 simulated hours. Full: 100k nodes, one simulated day,
 * the goals of issue 11. Plots go to bench/results/simulate-*.svg.
 */
import { scaleLabel, simulate, simulationRows, writePlots, type SimulationOptions } from '@hexedge/simulator';
import { RESULTS_DIR, type BenchRow } from '../report.ts';

export const QUICK: SimulationOptions = { nodes: 10_000, hours: 3, seed: 1, sampledRequests: 30_000 };
export const FULL: SimulationOptions = { nodes: 100_000, hours: 24, seed: 1, sampledRequests: 400_000 };

export function progressBar(label: string): SimulationOptions['onProgress'] {
  if (!process.stderr.isTTY) return undefined;
  return ({ simulatedMs, totalMs, requests }) => {
    const done = Math.round((30 * simulatedMs) / totalMs);
    process.stderr.write(`\r${label} [${'#'.repeat(done)}${' '.repeat(30 - done)}] ${(simulatedMs / 3_600_000).toFixed(1)} h, ${requests} requests${simulatedMs >= totalMs ? '\n' : ''}`);
  };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const options = quick ? QUICK : FULL;
  const label = `simulate ${scaleLabel(options.nodes)} ${options.hours}h`;
  const result = await simulate({ ...options, onProgress: progressBar(label) });
  for (const file of writePlots(result, { dir: RESULTS_DIR, prefix: `simulate-${scaleLabel(options.nodes)}` })) console.log(`plot: ${file}`);
  return simulationRows(result);
}
