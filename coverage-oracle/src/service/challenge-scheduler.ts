import type { LatLng, NodeKeyPair } from '@hexedge/protocol';
import type { ClaimedNode, OracleDirectory } from '../directory.ts';
import type { IngestResult } from '../ingest/ingest.ts';
import { LatencyChallenger, locationReportFor } from '@hexedge/protocol';
import { selectChallengers, type ChallengerCandidate } from '../location/challenger.ts';
import type { Stage } from '../stages/stage.ts';
import { createProbe, fetchWithAnswerLimit, PROBE_PATH } from '@hexedge/protocol';
import type { HttpFetch } from './trust-publisher.ts';

/**
 * A challenge response or a probe's location report is a signed message of about a kilobyte; a node
 * answering more is read no further (a giant answer must not cost the oracle its memory).
 */
export const MAX_CHALLENGE_ANSWER_BYTES = 64 * 1024;

export interface ChallengeSchedulerOptions {
  oracle: NodeKeyPair;
  /** Where the oracle itself challenges from (it is always one of every target's challengers). */
  location: LatLng;
  directory: OracleDirectory;
  /** Nodes with verifier standing are asked to challenge others; one voice per operator and prefix. */
  isVerifier(nodeId: string): boolean;
  operatorOf(nodeId: string): string | undefined;
  /** An anchor's surveyed place, which it challenges from (instead of the place it claims). */
  placeOf?(nodeId: string): LatLng | undefined;
  /** Into ingest as solicited reports: they answer the oracle's own probes. */
  submit(reports: unknown[], nowMs: number): Promise<IngestResult[]>;
  fetch: HttpFetch;
  intervalMs: number;
  challengersPerNode?: number;
  /** Challengers farther than this from a claim give bounds too loose to verify it. */
  maxChallengerDistanceKm?: number;
  timeoutMs?: number;
  /** Exchanges in flight at once: few, so that the oracle's own timing is not skewed by its own queue. */
  concurrency?: number;
  log?: (message: string) => void;
}

/**
 * Latency proof of location as a stage: every `intervalMs`, each node the directory lists is
 * challenged by the oracle itself and by the independent verifiers nearest its claim (asked by a
 * signed probe), and every outcome, answered or not, goes into ingest as a signed `location` report;
 * the verify stage turns them into availability and location verdicts. A probed challenger's answer
 * must be its own report about the target it was asked about.
 */
export class ChallengeScheduler implements Stage {
  readonly name = 'challenge';
  readonly #o: ChallengeSchedulerOptions;
  readonly #self: LatencyChallenger;
  #lastRunMs = Number.NEGATIVE_INFINITY;

  constructor(options: ChallengeSchedulerOptions) {
    const fetch = fetchWithAnswerLimit(options.fetch, {
      maxBytes: MAX_CHALLENGE_ANSWER_BYTES,
      what: "a node's challenge or probe answer",
    });
    this.#o = { ...options, fetch };
    this.#self = new LatencyChallenger({
      keys: options.oracle,
      location: options.location,
      fetch,
      timeoutMs: options.timeoutMs ?? 2000,
    });
  }

  async tick(nowMs: number): Promise<number> {
    if (nowMs - this.#lastRunMs < this.#o.intervalMs) return 0;
    this.#lastRunMs = nowMs;
    const o = this.#o;
    const nodes = o.directory.listNodes();
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    const candidates: ChallengerCandidate[] = nodes.map((n) => ({
      nodeId: n.nodeId,
      location: o.placeOf?.(n.nodeId) ?? n.location,
      verifier: o.isVerifier(n.nodeId),
      operatorId: o.operatorOf(n.nodeId) ?? n.nodeId,
      url: n.url,
    }));
    const jobs = nodes.flatMap((target) =>
      selectChallengers({
        claim: target.location,
        target: {
          nodeId: target.nodeId,
          operatorId: o.operatorOf(target.nodeId) ?? target.nodeId,
          url: target.url,
        },
        oracle: { nodeId: o.oracle.nodeId, location: o.location },
        candidates,
        count: o.challengersPerNode ?? 5,
        ...(o.maxChallengerDistanceKm ? { maxDistanceKm: o.maxChallengerDistanceKm } : {}),
      }).map(
        (c) => () => this.#exchange(c.nodeId === o.oracle.nodeId ? undefined : byId.get(c.nodeId), target),
      ),
    );
    const reports: unknown[] = [];
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const report = await jobs[next++]!();
        if (report) reports.push(report);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 4, jobs.length) }, worker));
    if (reports.length === 0) return 0;
    const results = await o.submit(reports, Date.now());
    for (const r of results) if (!r.accepted) o.log?.(`location report refused: ${r.code} ${r.message}`);
    return reports.length;
  }

  /** One exchange; a challenger node that does not carry out the probe yields no report (it says nothing about the target). */
  async #exchange(challenger: ClaimedNode | undefined, target: ClaimedNode): Promise<unknown> {
    const o = this.#o;
    if (!challenger) {
      const outcome = await this.#self.challenge({ nodeId: target.nodeId, url: target.url });
      return locationReportFor({ outcome, challenger: o.oracle, nowMs: Date.now() });
    }
    try {
      const probe = await createProbe({
        oracle: o.oracle,
        target: { nodeId: target.nodeId, url: target.url },
        nowMs: Date.now(),
      });
      const res = await o.fetch(new URL(PROBE_PATH, challenger.url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(probe),
        signal: AbortSignal.timeout(2 * (o.timeoutMs ?? 2000) + 1000),
      });
      if (!res.ok) {
        await res.body?.cancel();
        return undefined;
      }
      const report = (await res.json()) as {
        body?: { type?: unknown; nodeId?: unknown; targetNodeId?: unknown };
      } | null;
      const b = report?.body;
      // Only what was asked: the challenger's own report about this target.
      if (b?.type !== 'location' || b.nodeId !== challenger.nodeId || b.targetNodeId !== target.nodeId) {
        o.log?.(
          `probe via ${challenger.nodeId} answered with something other than its report on ${target.nodeId}`,
        );
        return undefined;
      }
      return report;
    } catch (err) {
      o.log?.(`probe via ${challenger.nodeId} failed: ${(err as Error).message}`);
      return undefined;
    }
  }
}
