import { Lifecycle } from '@hexedge/protocol';
import { describeEd25519Engine, listenHttp, useNodeEd25519 } from '@hexedge/protocol/node';
import path from 'node:path';
import {
  exportLogFiles,
  loadOrCreateOracleKey,
  nodeSha256Hex,
  pruneExportedLogHashes,
  SqliteOracleStore,
} from '../adapters/node.ts';
import { OracleService } from '../service/oracle-service.ts';
import type { OracleServiceConfig } from '../service/service-config.ts';
import type { Referee } from '../spot-check/spot-checker.ts';

/**
 * What runs disputed requests for the oracle (edge-node's `createReferee`, wired by the composition
 * root, which may import the edge node): made once the gateways' list exists, since models are
 * fetched from their origin registries by content id.
 */
export type RefereeFactory = (context: {
  gatewayUrls: () => readonly string[];
  dataDir: string;
  log: (line: string) => void;
}) => {
  run: Referee;
  close(): Promise<void>;
};

export interface RunningOracle {
  url: string;
  oracleId: string;
  service: OracleService;
  store: SqliteOracleStore;
  /**
   * Adds a gateway to read nodes from and push trust to (a composition root that starts the oracle
   * first), and reads its directory now: settles once the oracle knows the gateway's report key, so
   * the gateway's first reports are not refused as a stranger's while the next refresh is due.
   */
  addGatewayUrl(url: string): Promise<void>;
  /** Settles when the loops stop: resolves after stop, rejects on an infrastructure fault (the caller then stops). */
  done: Promise<void>;
  /** Settles once every part is closed. */
  closed: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The oracle deployable's one builder (`hexedge oracle`, `hexedge dev`, the tests): key and sampling
 * secret from the data dir (created 0600 on first start), SQLite store, the referee, the service's
 * loops, the HTTP API, and the provenance log exported every `exportIntervalMs` and at shutdown. The
 * signal stops it in reverse order: loops (a last trust push), export, listener, referee, store.
 */
export async function buildOracle(
  config: OracleServiceConfig,
  options: {
    signal: AbortSignal;
    log?: (line: string) => void;
    fetch?: typeof fetch;
    referee?: RefereeFactory;
  },
): Promise<RunningOracle> {
  // Ed25519 through libsodium for every signature this process makes or checks; without it node:crypto,
  // verifying on the thread pool (ingest checks many independent signatures at once).
  const ed25519 = useNodeEd25519({ verifyOnPool: true });
  const log = options.log ?? (() => {});
  log(`oracle: ${describeEd25519Engine(ed25519)}`);
  const life = new Lifecycle({ signal: options.signal, log });
  return life.start(async () => {
    const { keys, samplingSecret, created } = await loadOrCreateOracleKey(config.dataDir);
    if (created) log(`oracle: new key ${keys.nodeId} in ${config.dataDir}`);
    const store = new SqliteOracleStore({ path: path.join(config.dataDir, 'oracle.sqlite') });
    life.defer('oracle store', () => store.close());
    const exportDir = config.exportDir ?? path.join(config.dataDir, 'log');
    const gatewayUrls = [...config.gatewayUrls];
    const referee = options.referee?.({
      gatewayUrls: () => gatewayUrls,
      dataDir: config.dataDir,
      log: (m) => log(`oracle: ${m}`),
    });
    if (referee) life.defer('referee', () => referee.close());
    else
      log('oracle: no referee: disputed spot checks stay inconclusive and nobody is slashed for an output');
    const service = new OracleService({
      config: config.oracle,
      keys,
      samplingSecret,
      store,
      fetch: options.fetch ?? fetch,
      gatewayUrls,
      gatewayReporterIds: config.gatewayReporterIds,
      anchors: config.anchors,
      treasuryIds: config.treasuryIds,
      ...(referee ? { referee: referee.run } : {}),
      location: config.location,
      challengeIntervalMs: config.challengeIntervalMs,
      challengersPerNode: config.challengersPerNode,
      challengeTimeoutMs: config.challengeTimeoutMs,
      directoryRefreshMs: config.directoryRefreshMs,
      unknownReporterRefreshMs: config.unknownReporterRefreshMs,
      trustPushIntervalMs: config.trustPushIntervalMs,
      fullTrustPushIntervalMs: config.fullTrustPushIntervalMs,
      reRunTimeoutMs: config.reRunTimeoutMs,
      sha256: nodeSha256Hex,
      log: (m) => log(`oracle: ${m}`),
    });
    // Exports run one at a time (an epoch's file takes a while at scale, and two would share temporary
    // files); a call while one runs queues one more at most, which then sees every epoch closed by then.
    let exporting: Promise<void> = Promise.resolve();
    let queued = false;
    const exportNow = (): Promise<void> => {
      if (queued) return exporting;
      queued = true;
      exporting = exporting.then(async () => {
        queued = false;
        try {
          await exportLogFiles({ store, dir: exportDir });
          const pruned = await pruneExportedLogHashes({
            store,
            dir: exportDir,
            keepEpochs: config.logHashRetentionEpochs,
          });
          if (pruned.length > 0)
            log(
              `oracle: hash lists of exported epochs ${pruned[0]}–${pruned.at(-1)} dropped from the store (kept in ${exportDir})`,
            );
        } catch (err) {
          log(`oracle: log export to ${exportDir} failed: ${(err as Error).message}`);
        }
      });
      return exporting;
    };
    life.defer('log export', exportNow);
    const listener = await listenHttp({ app: service.app, port: config.port, host: config.host });
    life.defer('HTTP listener', () => listener.close());
    const exporter =
      config.exportIntervalMs > 0 ? setInterval(() => void exportNow(), config.exportIntervalMs) : undefined;
    exporter?.unref();
    life.defer('log export timer', () => clearInterval(exporter));
    const loops = new AbortController();
    const done = service.run(loops.signal);
    // A stage's infrastructure fault stops the loops; whoever holds `done` decides what follows.
    done.catch((err: Error) => log(`oracle: stopped on a fault: ${err.message}`));
    life.defer('oracle loops', async () => {
      loops.abort();
      await done.catch(() => {});
    });
    log(`oracle ${keys.nodeId} on ${listener.url} (gateways: ${gatewayUrls.join(', ') || 'none yet'})`);
    return {
      url: listener.url,
      oracleId: keys.nodeId,
      service,
      store,
      addGatewayUrl: async (url: string) => {
        if (!gatewayUrls.includes(url)) gatewayUrls.push(url);
        await service.refresh();
      },
      done,
      closed: life.closed,
      stop: () => life.stop(),
    };
  });
}
