/** What an adversary-mode run measures, accumulated as it goes; turned into rows by adversary-rows.ts. */
import type { SybilRole } from './roles.ts';

export type NodeClass = 'honest' | SybilRole;

export interface HourCounts {
  /** Organic (not self-paid) sampled requests served. */
  served: number;
  byHonest: number;
  /** Served by a node lying at the time: faking answers at any rate, claiming a place it is not in, relaying. */
  dishonest: number;
  /** Served with a faked answer (the liar lied on this one). */
  wrongAnswers: number;
  bySybilRole: Map<SybilRole, number>;
}

export interface EpochRewards {
  epoch: number;
  honestBaseUnits: bigint;
  sybilBaseUnits: bigint;
  /** Paid to nodes lying at the epoch's close (faking answers, relaying, claiming a place they are not at). */
  dishonestBaseUnits: bigint;
  unallocatedBaseUnits: bigint;
  /** Wash traders' rewards and the fees their self-paid requests cost (real requests × fee). */
  washEarnedBaseUnits: bigint;
  washFeesBaseUnits: bigint;
}

export class AdversaryMetrics {
  readonly hourly: HourCounts[] = [];
  readonly epochs: EpochRewards[] = [];
  /** Real spot checks run through SpotChecker's decision (the rest are counted). */
  realChecks = 0;
  countedChecks = 0;
  /** Model runs for verification (checkers' re-runs, referee runs) and for inference (requests served). */
  verificationRuns = 0;
  inferenceRuns = 0;
  /** Convictions (node's own answer) and checker frauds, by class of the convicted node. */
  readonly convictions = new Map<NodeClass, number>();
  readonly checkerFrauds = new Map<NodeClass, number>();
  /** Nodes of each class with at least one conviction, and when each was first convicted. */
  readonly firstConvictedAtMs = new Map<string, number>();
  /** When each node first served a request the oracle could sample (its rate went above zero). */
  readonly firstServedAtMs = new Map<string, number>();
  /** Frame attempts: a sleeper drawn as checker of an honest node's sample (it answers a coordinated wrong output). */
  frameAttempts = 0;
  /** Samples where every drawn checker was a colluding sleeper and the referee did not run (cheat passed). */
  collusionPasses = 0;
  /** Checker slots drawn, and how many a sleeper held. */
  checkerSlots = 0;
  sleeperSlots = 0;
  /** Grinding: attempts, sleeper slots in the variant the grinder chose by its guessed seed, and in the oracle's real draw. */
  grinds = 0;
  grindGuessSleeperSlots = 0;
  grindRealSleeperSlots = 0;
  grindSlots = 0;
  /** Unsolicited location reports from sybils, by ingest's answer (accepted, or the refusal code). */
  readonly evictReports = new Map<string, number>();
  /** Location verdicts on honest nodes' claims, by status; node challengers the majority contradicted, by class. */
  readonly honestLocation = new Map<string, number>();
  readonly contradicted = new Map<NodeClass, number>();
  /** Credible "not answered" reports about honest nodes that were up (a verifier lying unreachable). */
  falseDownReports = 0;
  /** Sticky sybils: moves made, refused by the registry, and times one was marked verified at a claim it is not at. */
  stickyMoves = 0;
  stickyMovesRefused = 0;
  stickyVerifiedElsewhere = 0;
  /** Per sticky sybil seen verified away from where it is: how far, and the window that verified it. */
  readonly stickyCases = new Map<
    string,
    {
      offByKm: number;
      status: string;
      uncertaintyKm?: number;
      challengers: Array<{ role: string; toTrueKm: number; toClaimKm: number }>;
    }
  >();
  /** Relay attempts the honest node refused (signed forward addressed to the relay), and the reason it gave. */
  relayRefusals = 0;
  relayRefusalReason = '';
  /** Self-paid (wash) sampled requests, and how many the wash trader's own node served. */
  washRequests = 0;
  washServedByOwn = 0;
  /** Organic sampled requests each node served (honest or not), for the per-node traffic comparison. */
  readonly servedByNode = new Map<string, number>();

  hour(h: number): HourCounts {
    while (this.hourly.length <= h)
      this.hourly.push({ served: 0, byHonest: 0, dishonest: 0, wrongAnswers: 0, bySybilRole: new Map() });
    return this.hourly[h]!;
  }
}

export const bump = <K>(map: Map<K, number>, key: K, by = 1) => map.set(key, (map.get(key) ?? 0) + by);
