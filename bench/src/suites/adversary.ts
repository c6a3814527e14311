/**
 * Issue 16's adversary simulation (@hexedge/simulator's adversary mode) as a bench suite: 30 % of the
 * identities are sybils running the attacks against the trust, standing, stake, spot-check, placement
 * and reward code, next to the same run without them. Quick: 2000 identities, 2 simulated hours.
 * Full: 100k identities, 2 simulated hours (the same as `hexedge simulate --adversaries`).
 */
import { adversaryRows, simulateAdversaries, type AdversarySimOptions } from '@hexedge/simulator';
import type { BenchRow } from '../report.ts';
import { progressBar } from './simulate.ts';

export const QUICK: AdversarySimOptions = {
  nodes: 2000,
  hours: 2,
  seed: 1,
  sampledRequests: 8000,
  detectionCheaters: 200,
};
export const FULL: AdversarySimOptions = {
  nodes: 100_000,
  hours: 2,
  seed: 1,
  sampledRequests: 40_000,
  detectionCheaters: 2000,
};

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const options = quick ? QUICK : FULL;
  const onProgress = progressBar(`adversaries ${options.nodes}`);
  const report = await simulateAdversaries({ ...options, ...(onProgress ? { onProgress } : {}) });
  return adversaryRows(report);
}
