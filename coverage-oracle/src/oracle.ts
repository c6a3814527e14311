import { type NodeKeyPair, type Sha256Hex } from '@hexedge/protocol';
import type { OracleConfig } from './config.ts';
import { CoverageMap } from './coverage/coverage-map.ts';
import type { OracleDirectory } from './directory.ts';
import { Ingest } from './ingest/ingest.ts';
import { EpochClock, samplingSeedFor } from './rewards/epochs.ts';
import type { SignedRewardManifest } from './rewards/manifest.ts';
import type { MerkleProof } from './rewards/merkle.ts';
import { PublishedEpochs } from './rewards/published-epochs.ts';
import type { RewardEntry } from './rewards/epoch-rewards.ts';
import { computePosp } from './rewards/posp.ts';
import type { CatalogueView } from './spot-check/catalogue-binding.ts';
import { SpotChecker, type ReRun, type Referee } from './spot-check/spot-checker.ts';
import { StakeLedger } from './stake/stake-ledger.ts';
import { IngestStage } from './stages/ingest-stage.ts';
import { RetentionStage } from './stages/retention-stage.ts';
import { RewardStage } from './stages/reward-stage.ts';
import { ScoreStage } from './stages/score-stage.ts';
import { runStage, type Stage } from './stages/stage.ts';
import { VerifyStage } from './stages/verify-stage.ts';
import type { OracleStore } from './store/oracle-store.ts';
import { StandingBook } from './trust/standing-book.ts';
import type { TrustSink } from './trust/trust-score.ts';
import type { PospReport } from '@hexedge/protocol';

/** Coverage older than this is not loaded into the map at start-up (30 days). */
const COVERAGE_MEMORY_MS = 30 * 24 * 3600_000;
/** The PoSP report is reused this long (it reads the last manifest and the epoch's work totals). */
const POSP_CACHE_MS = 1000;

export interface CoverageOracleOptions {
  config: OracleConfig;
  /** The oracle's Ed25519 identity: signs manifests. */
  keys: NodeKeyPair;
  /** Secret the per-epoch sampling seeds derive from (≥ 16 random bytes, kept with the key). */
  samplingSecret: Uint8Array;
  store: OracleStore;
  directory: OracleDirectory;
  sink?: TrustSink;
  /** Re-runs a request on a checker node; without it spot checks are not run (receipts still count as work). */
  reRun?: ReRun;
  /** The oracle's own execution of a disputed request; without it a dispute stays inconclusive. */
  referee?: Referee;
  /** The model catalogue receipts are bound to (name, version, content id). */
  catalogue?: CatalogueView;
  /** The model manifest's tolerance; default `config.defaultTolerance`. */
  toleranceFor?: (modelName: string, modelVersion: string) => number;
  /** SHA-256 for batch proofs at ingest, the verify stage's receipt hashes, draws and spot-check digests, and the epoch log's roots (a runtime's faster one); WebCrypto's when absent. */
  sha256?: Sha256Hex;
  nowMs?: () => number;
}

/**
 * The composition of the oracle's stages over one store. `run(signal)` runs every stage's loop until
 * the signal aborts; `tick(nowMs)` runs each stage once, in order (tests and simulations).
 */
export class CoverageOracle {
  readonly ingest: Ingest;
  readonly ingestStage: IngestStage;
  readonly verifyStage: VerifyStage;
  readonly scoreStage: ScoreStage;
  readonly rewardStage: RewardStage;
  readonly retentionStage: RetentionStage;
  readonly coverage = new CoverageMap();
  readonly ledger: StakeLedger;
  readonly clock: EpochClock;
  /** Every node's standing (verifier or not), recomputed by the score stage. */
  readonly standing = new StandingBook();
  /** Closed epochs' manifests, parsed and their Merkle trees built once (manifest, proof and report requests). */
  readonly published: PublishedEpochs;
  readonly #store: OracleStore;
  readonly #config: OracleConfig;
  readonly #now: () => number;
  #posp: { atMs: number; report: PospReport } | undefined;

  constructor(options: CoverageOracleOptions) {
    const { config, store, directory } = options;
    this.#store = store;
    this.published = new PublishedEpochs({ store });
    this.#config = config;
    this.#now = options.nowMs ?? Date.now;
    this.clock = new EpochClock(config.epochMs);
    this.ledger = new StakeLedger({ store, slashBps: config.slashBps, unbondDelayMs: config.unbondDelayMs });
    this.coverage.add(store.listCoverage({ sinceMs: this.#now() - COVERAGE_MEMORY_MS }));
    const seedCache = new Map<number, Promise<string>>();
    const seedFor = (epoch: number) => {
      let seed = seedCache.get(epoch);
      if (!seed) seedCache.set(epoch, (seed = samplingSeedFor({ secret: options.samplingSecret, epoch })));
      return seed;
    };

    this.ingest = new Ingest({
      store,
      directory,
      ...(options.sha256 ? { sha256: options.sha256 } : {}),
      ...(options.nowMs ? { nowMs: options.nowMs } : {}),
      // Verify judges what ingest just made durable from memory; SQLite is read only when it lags or restarted.
      onCommitted: (stored) => this.verifyStage.handOff(stored),
    });
    this.ingestStage = new IngestStage({ ingest: this.ingest, batchSize: config.batchSize });
    this.verifyStage = new VerifyStage({
      store,
      directory,
      coverage: this.coverage,
      ledger: this.ledger,
      ...(options.reRun
        ? {
            spotChecker: new SpotChecker({
              reRun: options.reRun,
              minResponses: config.minCheckerResponses,
              ...(options.referee ? { referee: options.referee } : {}),
              ...(options.sha256 ? { sha256: options.sha256 } : {}),
            }),
          }
        : {}),
      samplingRate: config.samplingRate,
      ...(options.sha256 ? { sha256: options.sha256 } : {}),
      refereeAuditRate: config.refereeAuditRate,
      checkersPerSample: config.checkersPerSample,
      verifiers: this.standing,
      ...(options.catalogue ? { catalogue: options.catalogue } : {}),
      oracleId: options.keys.nodeId,
      samplingSeedAt: (atMs) => seedFor(this.clock.epochOf(atMs)),
      toleranceFor: options.toleranceFor ?? (() => config.defaultTolerance),
      batchSize: config.batchSize,
      roundCloseDelayMs: config.roundCloseDelayMs,
      minChallengers: config.minChallengers,
      verifiedWithinKm: config.verifiedWithinKm,
      minTightChallengers: config.minTightChallengers,
    });
    this.scoreStage = new ScoreStage({
      store,
      ...(options.sink ? { sink: options.sink } : {}),
      intervalMs: config.scoreIntervalMs,
      standing: {
        book: this.standing,
        ledger: this.ledger,
        directory,
        policy: {
          minBondBaseUnits: config.minBondBaseUnits,
          seasoningPasses: config.seasoningPasses,
          seasoningMs: config.seasoningMs,
          minTrust: config.minCheckerTrust,
        },
      },
    });
    this.rewardStage = new RewardStage({
      store,
      oracle: options.keys,
      clock: this.clock,
      poolBaseUnits: config.poolBaseUnits,
      shares: config.shares,
      modelCostUnits: config.modelCostUnits,
      requestFeeBaseUnits: config.requestFeeBaseUnits,
      stakeAt: (nodeId, atMs) => this.ledger.balanceOf(nodeId, atMs),
      samplingSeedFor: seedFor,
      firstEpoch: this.clock.epochOf(this.#now()),
      settleMs: config.settleMs,
      isJudgedBefore: (endMs) => {
        // The oldest report not judged yet arrived at or after the end, and no PoC round with a beacon from before it is open.
        const next = store.listReports({ afterSeq: store.getCursor(this.verifyStage.name), limit: 1 })[0];
        if (next && next.receivedAtMs < endMs) return false;
        return store.listDueRounds({ nowMs: endMs + config.roundCloseDelayMs, limit: 1 }).length === 0;
      },
      ...(options.sha256 ? { sha256: options.sha256 } : {}),
    });
    this.retentionStage = new RetentionStage({
      store,
      reportRetentionMs: config.reportRetentionMs,
      workRetentionMs: config.workRetentionMs,
      judgedThroughSeq: () => store.getCursor(this.verifyStage.name),
    });
  }

  get stages(): Stage[] {
    return [this.ingestStage, this.verifyStage, this.scoreStage, this.rewardStage, this.retentionStage];
  }

  /** Publishes PoC entropy: beacons built from it are valid from `startMs` for 180 s. */
  publishEntropy(entropy: { id: string; startMs: number }): void {
    this.#store.saveEntropy(entropy);
  }

  /** Whether a node may check others' work and challenge their locations (stake, seasoning, location, no misconduct). */
  isVerifier(nodeId: string): boolean {
    return this.standing.isVerifier(nodeId);
  }

  /** The proof-of-sampling condition for the current epoch, and the verification compute so far. */
  posp(nowMs = this.#now()): PospReport {
    // A public GET: computed at most once a second however often it is asked.
    const cached = this.#posp;
    if (
      cached &&
      nowMs >= cached.atMs &&
      nowMs - cached.atMs < POSP_CACHE_MS &&
      this.clock.epochOf(nowMs) === cached.report.epoch
    )
      return cached.report;
    const report = computePosp({ config: this.#config, store: this.#store, clock: this.clock, nowMs });
    this.#posp = { atMs: nowMs, report };
    return report;
  }

  /** Runs every stage until `signal` aborts; rejects on the first infrastructure fault. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(
      this.stages.map((s) => runStage(s, { signal, idleMs: this.#config.idleMs, nowMs: this.#now })),
    );
  }

  async tick(nowMs = this.#now()): Promise<void> {
    for (const stage of this.stages) await stage.tick(nowMs);
  }

  /** The signed manifest of a closed epoch, as published. */
  getManifest(epoch: number): { signed: SignedRewardManifest; bytes: Uint8Array } | undefined {
    return this.published.manifest(epoch);
  }

  /** A node's entry in an epoch's manifest with its Merkle proof, for `verifyRewardEntry`. */
  async getRewardProof(
    epoch: number,
    nodeId: string,
  ): Promise<{ entry: RewardEntry; proof: MerkleProof; merkleRoot: string } | undefined> {
    return this.published.proof(epoch, nodeId);
  }
}
