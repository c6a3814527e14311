import { greatCircleDistanceKm, type LatLng } from '@hexedge/protocol';
import { waitUntil } from '@hexedge/test-kit';
import type { Fabric, ListedNode } from './fabric.ts';
import type { LocationRow } from './report.ts';
import { CITIES } from './world.ts';

/** The part of the oracle's `GET /v1/oracle/nodes/{id}` this check reads. */
interface NodeReport {
  trust: { score: number };
  locationProofs: Array<{
    status: string;
    reason?: string;
    details?: { uncertaintyKm?: number | null; estimate?: LatLng | null };
  }>;
}

/**
 * Polls the oracle's verdicts and the gateway's node list until every honest node is verified at the
 * gateway and the liar's latest verdict is `impossible`, or `timeoutMs` passes (then throws with the
 * latest verdicts). The oracle keeps one location verdict per node per window, replaced by each new
 * proof, so a `verified` one is caught while polling; the gateway keeps `locationVerified` once set.
 */
export async function watchLocationProofs(
  fabric: Fabric,
  options: { timeoutMs: number },
): Promise<{ rows: LocationRow[]; waitedMs: number }> {
  const startedMs = performance.now();
  const verified = new Map<string, { uncertaintyKm: number; afterMs: number }>();
  const liar = fabric.nodes.find((n) => n.host.role === 'liar')!;
  const honest = fabric.nodes.filter((n) => n.host.role === 'node');
  let listed: ListedNode[] = [];
  let reports: NodeReport[] = [];
  // Verified at the gateway and seen verified at the oracle (whose verdict may have moved on since).
  const settled = () =>
    honest.every(
      (n) => listed.find((l) => l.id === n.nodeId)?.locationVerified && verified.has(n.host.key),
    ) && reports[fabric.nodes.indexOf(liar)]?.locationProofs[0]?.status === 'impossible';
  await waitUntil(
    'every honest node verified at the gateway and the liar’s claim found impossible',
    async () => {
      [listed, reports] = await Promise.all([
        fabric.listNodes(),
        Promise.all(fabric.nodes.map((n) => fabric.oracleReport<NodeReport>(n.nodeId))),
      ]);
      for (const [i, n] of fabric.nodes.entries()) {
        const proof = reports[i]!.locationProofs[0];
        const km = proof?.details?.uncertaintyKm;
        const best = verified.get(n.host.key);
        if (
          proof?.status === 'verified' &&
          typeof km === 'number' &&
          km < (best?.uncertaintyKm ?? Infinity)
        ) {
          verified.set(n.host.key, {
            uncertaintyKm: km,
            afterMs: best?.afterMs ?? performance.now() - startedMs,
          });
        }
      }
      return settled();
    },
    { timeoutMs: options.timeoutMs, intervalMs: 500 },
  ).catch(async (err: Error) => {
    const latest = fabric.nodes.map((n, i) => ({ node: n.host.key, proof: reports[i]?.locationProofs[0] }));
    throw new Error(`${err.message}\nlatest verdicts: ${JSON.stringify(latest)}\n${fabric.logs(20)}`);
  });

  const rows = fabric.nodes.map((n, i): LocationRow => {
    const proof = reports[i]!.locationProofs[0]!;
    const estimate = proof.details?.estimate ?? null;
    const km = (to: LatLng) => (estimate ? Math.round(greatCircleDistanceKm(estimate, to)) : null);
    const best = verified.get(n.host.key);
    return {
      node: n.host.key,
      runsIn: n.host.city,
      claims: n.host.claim ?? n.host.city,
      trust: reports[i]!.trust.score,
      status: proof.status,
      reason: proof.reason ?? '',
      uncertaintyKm: proof.details?.uncertaintyKm == null ? null : Math.round(proof.details.uncertaintyKm),
      estimateToTrueKm: km(CITIES[n.host.city]),
      estimateToClaimKm: km(CITIES[n.host.claim ?? n.host.city]),
      gatewayVerified: listed.find((l) => l.id === n.nodeId)?.locationVerified ?? false,
      verifiedUncertaintyKm: best ? Math.round(best.uncertaintyKm) : null,
      verifiedAfterMs: best ? Math.round(best.afterMs) : null,
    };
  });
  return { rows, waitedMs: Math.round(performance.now() - startedMs) };
}
