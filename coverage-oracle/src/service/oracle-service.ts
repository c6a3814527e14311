import type { LatLng, NodeKeyPair, Sha256Hex } from '@hexedge/protocol';
import type { Hono } from 'hono';
import type { OracleConfig } from '../config.ts';
import type { KnownReporter } from '../directory.ts';
import { createOracleApp } from '../http/oracle-app.ts';
import { CoverageOracle } from '../oracle.ts';
import type { Hotspot } from '../poc/types.ts';
import { runStage, sleep } from '../stages/stage.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import { ChallengeScheduler } from './challenge-scheduler.ts';
import { GatewayDirectory } from './gateway-directory.ts';
import { httpReRun } from './http-rerun.ts';
import { ModelCatalogue } from './model-catalogue.ts';
import { RefreshGate } from './refresh-gate.ts';
import { DEFAULT_UNKNOWN_REPORTER_REFRESH_MS } from './service-config.ts';
import type { Referee } from '../spot-check/spot-checker.ts';
import { TrustPublisher, type HttpFetch } from './trust-publisher.ts';

/** The service around the oracle core: where it learns of nodes, where it pushes trust, how often. */
export interface OracleServiceOptions {
  config: OracleConfig;
  keys: NodeKeyPair;
  samplingSecret: Uint8Array;
  store: OracleStore;
  fetch: HttpFetch;
  /**
   * Gateways: node lists and model manifests are read from them, trust is pushed to them. Read at each
   * use, so a composition root that starts the oracle first may add its gateway once that listens.
   */
  gatewayUrls: string[];
  /** The gateways' report keys: receipts are accepted from these reporters only. */
  gatewayReporterIds: string[];
  /** Keys whose signed deposits credit operators' stake accounts (standing in for a chain bridge). */
  treasuryIds?: string[];
  /** The oracle's own execution of disputed requests; without it disputes stay inconclusive. */
  referee?: Referee;
  /** Where the oracle challenges nodes from. */
  location: LatLng;
  hotspots?: Hotspot[];
  /** Other reporters at known places (a firmware bridge, fixed challengers). */
  reporters?: KnownReporter[];
  /** The operator's anchors: challengers trusted from the start, at these places (see service-config). */
  anchors?: ReadonlyArray<{ nodeId: string; location: LatLng }>;
  /** 0 turns latency challenges off. */
  challengeIntervalMs: number;
  challengersPerNode: number;
  challengeTimeoutMs: number;
  directoryRefreshMs: number;
  /**
   * A report from an unknown gateway reporter re-reads the directory at most this often (ms; default
   * DEFAULT_UNKNOWN_REPORTER_REFRESH_MS, service-config's reason).
   */
  unknownReporterRefreshMs?: number;
  trustPushIntervalMs: number;
  /** Every score is re-sent this often (gateways restart; nodes register after their first score). */
  fullTrustPushIntervalMs: number;
  reRunTimeoutMs: number;
  /** SHA-256 for batch proofs at ingest (the Node builder passes node:crypto's); WebCrypto's when absent. */
  sha256?: Sha256Hex;
  nowMs?: () => number;
  log?: (message: string) => void;
}

/**
 * The oracle as a running service, runtime-neutral: the core's stages, the challenge scheduler, the
 * directory and tolerance refresh from the gateways, and the trust push, each a loop stopped by one
 * signal; plus the HTTP app. The composition root adds storage, the listener and log export.
 */
export class OracleService {
  readonly oracle: CoverageOracle;
  readonly directory: GatewayDirectory;
  readonly publisher: TrustPublisher;
  readonly catalogue: ModelCatalogue;
  /** Directory reads, one at a time: the periodic loop's and those asked for by unknown reporters (rate-limited). */
  readonly refreshes: RefreshGate;
  readonly challenges: ChallengeScheduler;
  readonly app: Hono;
  readonly #o: OracleServiceOptions;
  readonly #log: (m: string) => void;
  #running = false;

  constructor(options: OracleServiceOptions) {
    this.#o = options;
    this.#log = options.log ?? (() => {});
    const { config, keys, store } = options;
    const anchors = new Map((options.anchors ?? []).map((a) => [a.nodeId, a.location]));
    const isVerifier = (nodeId: string) => anchors.has(nodeId) || this.oracle.isVerifier(nodeId);
    this.refreshes = new RefreshGate({
      refresh: () => this.#refreshNow(),
      minIntervalMs: options.unknownReporterRefreshMs ?? DEFAULT_UNKNOWN_REPORTER_REFRESH_MS,
      ...(options.nowMs ? { nowMs: options.nowMs } : {}),
    });
    this.directory = new GatewayDirectory({
      isVerifier,
      onUnknownReporter: () => this.refreshes.request(),
      reporters: [
        ...options.gatewayReporterIds.map((nodeId): KnownReporter => ({ nodeId, roles: ['gateway'] })),
        { nodeId: keys.nodeId, location: options.location, roles: ['challenger'], trusted: true },
        ...(options.reporters ?? []).map((r) => ({ ...r, trusted: true })),
        ...[...anchors].map(([nodeId, location]): KnownReporter => ({
          nodeId,
          location,
          roles: ['challenger'],
          trusted: true,
        })),
      ],
      ...(options.hotspots ? { hotspots: options.hotspots } : {}),
    });
    this.publisher = new TrustPublisher({
      keys,
      gatewayUrls: options.gatewayUrls,
      fetch: options.fetch,
      log: this.#log,
      ...(options.nowMs ? { nowMs: options.nowMs } : {}),
    });
    this.catalogue = new ModelCatalogue({ defaultTolerance: config.defaultTolerance });
    this.oracle = new CoverageOracle({
      config,
      keys,
      samplingSecret: options.samplingSecret,
      store,
      directory: this.directory,
      sink: this.publisher,
      reRun: httpReRun({
        fetch: options.fetch,
        oracle: keys,
        gatewayOf: (id) => this.directory.getNode(id)?.gatewayUrl,
        timeoutMs: options.reRunTimeoutMs,
      }),
      ...(options.referee ? { referee: options.referee } : {}),
      catalogue: this.catalogue,
      toleranceFor: this.catalogue.toleranceFor,
      ...(options.sha256 ? { sha256: options.sha256 } : {}),
      ...(options.nowMs ? { nowMs: options.nowMs } : {}),
    });
    this.challenges = new ChallengeScheduler({
      oracle: keys,
      location: options.location,
      directory: this.directory,
      isVerifier,
      operatorOf: (nodeId) => this.oracle.standing.operatorOf(nodeId),
      placeOf: (nodeId) => anchors.get(nodeId),
      submit: (reports, nowMs) => this.oracle.ingest.submitBatch(reports, nowMs, { solicited: true }),
      fetch: options.fetch,
      intervalMs: options.challengeIntervalMs,
      challengersPerNode: options.challengersPerNode,
      timeoutMs: options.challengeTimeoutMs,
      log: this.#log,
    });
    this.app = createOracleApp({
      oracle: this.oracle,
      oracleId: keys.nodeId,
      store,
      treasuryIds: options.treasuryIds ?? [],
      isReady: () => this.#running,
      ...(options.nowMs ? { nowMs: options.nowMs } : {}),
    });
  }

  /**
   * Reads node claims, report keys and model tolerances from the gateways (joins a read in flight);
   * a gateway that is down is logged, not fatal, and does not keep the others from being read.
   */
  refresh(): Promise<void> {
    return this.refreshes.run();
  }

  async #refreshNow(): Promise<void> {
    const { gatewayUrls, fetch } = this.#o;
    const failures = await this.directory.refresh({ gatewayUrls, fetch });
    const failed = new Set(failures.map((f) => f.gatewayUrl));
    for (const gatewayUrl of gatewayUrls) {
      if (failed.has(gatewayUrl)) continue;
      try {
        await this.catalogue.refresh({ gatewayUrl, fetch });
      } catch (err) {
        failures.push({ gatewayUrl, message: (err as Error).message });
      }
    }
    for (const f of failures) this.#log(`directory refresh failed for ${f.gatewayUrl}: ${f.message}`);
  }

  /** Runs every loop until `signal` aborts; on a stage's infrastructure fault stops them all and rejects (the root then shuts down). */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    // One fault stops every loop, so nothing keeps half-running beside a stopped stage.
    const inner = new AbortController();
    const stopAll = () => inner.abort();
    signal.addEventListener('abort', stopAll, { once: true });
    const loop = (work: Promise<unknown>) =>
      work.catch((err: unknown) => (inner.abort(), Promise.reject(err)));
    const every = async (intervalMs: number, step: () => Promise<unknown>) => {
      while (!inner.signal.aborted) {
        await step();
        await sleep(intervalMs, inner.signal);
      }
    };
    await this.refresh();
    this.#running = true;
    try {
      await Promise.all([
        loop(this.oracle.run(inner.signal)),
        // 0 turns challenges off: where every node shares one machine, round trips prove nothing about places.
        o.challengeIntervalMs > 0
          ? loop(
              runStage(this.challenges, {
                signal: inner.signal,
                idleMs: Math.min(o.challengeIntervalMs, 1000),
                ...(o.nowMs ? { nowMs: o.nowMs } : {}),
              }),
            )
          : undefined,
        loop(every(o.directoryRefreshMs, () => this.refresh())),
        loop(
          every(o.trustPushIntervalMs, () =>
            this.publisher.flush({ fullPushIntervalMs: o.fullTrustPushIntervalMs }),
          ),
        ),
      ]);
    } finally {
      this.#running = false;
      signal.removeEventListener('abort', stopAll);
      inner.abort();
      // What the last score run changed still reaches the gateways.
      await this.publisher.flush().catch(() => {});
    }
  }
}
