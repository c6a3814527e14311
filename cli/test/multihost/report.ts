import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** test-artifacts/multihost.json: written by the scenario, printed as tables by the suite's teardown. */
export const REPORT_FILE = path.resolve(import.meta.dirname, '../../../test-artifacts/multihost.json');

export interface RoundTripRow {
  from: string;
  to: string;
  distanceKm: number;
  emulatedRttMs: number;
  /** Fastest of several TCP handshakes (SYN → SYN-ACK, answered by the target's kernel). */
  measuredRttMs: number;
}

export interface LocationRow {
  node: string;
  runsIn: string;
  claims: string;
  /** The oracle's trust score and latest location verdict (`GET /v1/oracle/nodes/{id}`). */
  trust: number;
  status: string;
  reason: string;
  uncertaintyKm: number | null;
  /** From the oracle's estimate to where the node really runs, and to what it claims. */
  estimateToTrueKm: number | null;
  estimateToClaimKm: number | null;
  /** The gateway's `locationVerified` (GET /v1/nodes). */
  gatewayVerified: boolean;
  /** Best (smallest) uncertainty of a `verified` verdict seen while polling, and when (ms after the nodes were up). */
  verifiedUncertaintyKm: number | null;
  verifiedAfterMs: number | null;
}

export interface RoutingRow {
  caller: string;
  policy: string;
  /** The node with the smallest measured round trip from the caller. */
  nearest: string;
  nearestRttMs: number;
  /** The first node of placement's geographic order for the caller's location (by claims). */
  nearestByClaims: string;
  requests: number;
  /** Requests served by `nearest`, and by whom the rest were. */
  servedByNearest: number;
  /** Requests served by a node within 1 ms of the gateway's nearest honest node (round trip from the gateway). */
  servedNearGateway: number;
  servedBy: Record<string, number>;
}

export interface MultihostReport {
  generatedAt: string;
  skipped?: { reason: string };
  setupMs?: number;
  delayModel?: Record<string, number | string>;
  hosts?: Array<{ key: string; role: string; city: string; claim?: string; address: string }>;
  roundTrips?: RoundTripRow[];
  switch?: unknown;
  location?: { verifiedWithinKm: number; challengeIntervalMs: number; waitedMs: number; rows: LocationRow[] };
  routing?: {
    rows: RoutingRow[];
    nearestShare: number;
    nearGatewayShare: number;
    fromGatewayRttMs: Record<string, number>;
  };
  mqtt?: { from: string; servedBy: string; connectMs: number; requestMs: number; pathLowerBoundMs: number };
  lorawan?: {
    from: string;
    uplinkToDownlinkMs: number;
    pathLowerBoundMs: number;
    fPort: number;
    payloadBytes: number;
  };
  failover?: {
    caller: string;
    cut: string;
    deadlineMs: number;
    requestsAfterCut: number;
    answeredAfterCut: number;
    /** From the cut to the first answer by another node. */
    firstOtherAnswerMs: number;
    /** Requests that tried the cut host first (a failed attempt on it in their gateway trace), answered by another. */
    failedOver: number;
    /** Of those, the ones that waited out their attempt timeout on it. */
    failedOverAfterTimeout?: number;
    /** Cuts it took until a request met the silent host (placement may move away before one does). */
    tries?: number;
    /** The slowest request after the cut: what failing over cost the unlucky caller. */
    slowestAfterCutMs: number;
    /** From the cut until the gateway no longer lists the node healthy (3 missed heartbeats). */
    unhealthyAfterMs: number;
    /** From the link coming back until the gateway lists the node healthy again. */
    healthyAgainAfterMs: number;
  };
}

export function writeReport(report: MultihostReport): void {
  mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
  writeFileSync(REPORT_FILE, `${JSON.stringify(report, null, 2)}\n`);
}

export function readReport(): MultihostReport | undefined {
  try {
    return JSON.parse(readFileSync(REPORT_FILE, 'utf8')) as MultihostReport;
  } catch {
    return undefined;
  }
}

function table(header: string[], rows: Array<Array<string | number | null | boolean>>): string {
  const body = rows.map((r) =>
    r.map((c) => (c === null ? '—' : typeof c === 'number' ? String(Math.round(c * 100) / 100) : String(c))),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function formatReport(r: MultihostReport): string {
  if (r.skipped) return `multi-host fabric: SKIPPED (${r.skipped.reason})`;
  const setup = r.setupMs === undefined ? 'setup did not finish' : `setup ${Math.round(r.setupMs / 1000)} s`;
  const out: string[] = [`multi-host fabric (test-artifacts/multihost.json; ${setup})`];
  if (r.roundTrips?.length) {
    out.push('', 'round trips (TCP handshake, fastest of 5) vs the emulated great-circle paths');
    out.push(
      table(
        ['from', 'to', 'km', 'emulated ms', 'measured ms', 'extra ms'],
        r.roundTrips.map((t) => [
          t.from,
          t.to,
          Math.round(t.distanceKm),
          t.emulatedRttMs,
          t.measuredRttMs,
          t.measuredRttMs - t.emulatedRttMs,
        ]),
      ),
    );
  }
  if (r.location) {
    out.push(
      '',
      `latency proofs of location (verifiedWithinKm ${r.location.verifiedWithinKm}, challenges every ${r.location.challengeIntervalMs} ms, watched ${Math.round(r.location.waitedMs / 1000)} s)`,
    );
    out.push(
      table(
        [
          'node',
          'runs in',
          'claims',
          'latest verdict',
          'uncertainty km',
          'estimate→true km',
          'estimate→claim km',
          'best verified km',
          'verified after ms',
          'gateway verified',
          'trust',
        ],
        r.location.rows.map((l) => [
          l.node,
          l.runsIn,
          l.claims,
          `${l.status} (${l.reason})`,
          l.uncertaintyKm,
          l.estimateToTrueKm,
          l.estimateToClaimKm,
          l.verifiedUncertaintyKm,
          l.verifiedAfterMs,
          l.gatewayVerified,
          l.trust,
        ]),
      ),
    );
  }
  if (r.routing) {
    out.push(
      '',
      `routing (callers without a policy): served by the caller's nearest node by measured round trip ${Math.round(r.routing.nearestShare * 100)} %, by a node next to the gateway ${Math.round(r.routing.nearGatewayShare * 100)} %`,
      `  (gateway → node round trips, ms: ${Object.entries(r.routing.fromGatewayRttMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    );
    out.push(
      table(
        [
          'caller',
          'policy',
          'nearest (measured)',
          'rtt ms',
          'nearest by claims',
          'requests',
          'by nearest',
          'near gateway',
          'served by',
        ],
        r.routing.rows.map((x) => [
          x.caller,
          x.policy,
          x.nearest,
          x.nearestRttMs,
          x.nearestByClaims,
          x.requests,
          x.servedByNearest,
          x.servedNearGateway,
          Object.entries(x.servedBy)
            .map(([k, v]) => `${k}:${v}`)
            .join(' '),
        ]),
      ),
    );
  }
  if (r.mqtt)
    out.push(
      '',
      `MQTT v5 request from ${r.mqtt.from} via Mosquitto: ${Math.round(r.mqtt.requestMs * 10) / 10} ms (path lower bound ${Math.round(r.mqtt.pathLowerBoundMs * 10) / 10} ms; connect ${Math.round(r.mqtt.connectMs)} ms), served by ${r.mqtt.servedBy}`,
    );
  if (r.lorawan)
    out.push(
      '',
      `LoRaWAN uplink from ${r.lorawan.from} (ChirpStack on Mosquitto → hexedge gateway's bridge → node → downlink): ${Math.round(r.lorawan.uplinkToDownlinkMs * 10) / 10} ms (path lower bound ${Math.round(r.lorawan.pathLowerBoundMs * 10) / 10} ms), downlink fPort ${r.lorawan.fPort}, ${r.lorawan.payloadBytes} bytes`,
    );
  if (r.failover) {
    const f = r.failover;
    out.push(
      '',
      `failover: ${f.cut}'s link cut while ${f.caller} sends (deadline ${f.deadlineMs} ms): ${f.answeredAfterCut}/${f.requestsAfterCut} answered; ${f.failedOver} tried the silent host first and were failed over (cut ${f.tries ?? 1}×), the slowest in ${Math.round(f.slowestAfterCutMs)} ms; first answer by another node ${Math.round(f.firstOtherAnswerMs)} ms after the cut; unhealthy at the gateway after ${Math.round(f.unhealthyAfterMs)} ms, healthy again ${Math.round(f.healthyAgainAfterMs)} ms after the link came back`,
    );
  }
  if (r.switch) out.push('', `switch: ${JSON.stringify(r.switch)}`);
  return out.join('\n');
}
