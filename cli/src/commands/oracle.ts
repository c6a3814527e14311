import { OracleService } from '@hexedge/coverage-oracle';
import { exportLogFiles, loadOrCreateOracleKey, SqliteOracleStore } from '@hexedge/coverage-oracle/node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseOracleServiceConfig, type OracleServiceConfig } from '../config/oracle-config.ts';
import { listenHttp } from '../listen-http.ts';

export const ORACLE_USAGE = `  oracle     the coverage oracle: reports in, spot checks, location proofs, trust to gateways, rewards
             [--config FILE] [--port 8790] [--host 127.0.0.1] [--data-dir DIR] [--gateway URL]…
             [--gateway-reporter NODE_ID]… [--lat DEG --lng DEG]   (every key: cli/examples/oracle.yaml)
`;

export interface RunningOracle {
  url: string;
  oracleId: string;
  service: OracleService;
  store: SqliteOracleStore;
  /** Settles when the loops stop: resolves after stop(), rejects on an infrastructure fault. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The oracle's composition root, in-process (`hexedge dev` and tests call it; `hexedge oracle` wraps
 * it): key and sampling secret from the data dir (created 0600 on first start), SQLite store, the
 * service's loops, the HTTP API, and the provenance log exported every `exportIntervalMs` and at
 * shutdown. Stops in reverse order: loops (a last trust push), export, listener, store.
 */
export async function startOracle(config: OracleServiceConfig, log: (message: string) => void, options: { fetch?: typeof fetch } = {}): Promise<RunningOracle> {
  const { keys, samplingSecret, created } = await loadOrCreateOracleKey(config.dataDir);
  if (created) log(`oracle: new key ${keys.nodeId} in ${config.dataDir}`);
  const store = new SqliteOracleStore({ path: path.join(config.dataDir, 'oracle.sqlite') });
  const exportDir = config.exportDir ?? path.join(config.dataDir, 'log');
  const service = new OracleService({
    config: config.oracle,
    keys,
    samplingSecret,
    store,
    fetch: options.fetch ?? fetch,
    gatewayUrls: config.gatewayUrls,
    gatewayReporterIds: config.gatewayReporterIds,
    location: config.location,
    challengeIntervalMs: config.challengeIntervalMs,
    challengersPerNode: config.challengersPerNode,
    challengeTimeoutMs: config.challengeTimeoutMs,
    directoryRefreshMs: config.directoryRefreshMs,
    trustPushIntervalMs: config.trustPushIntervalMs,
    fullTrustPushIntervalMs: config.fullTrustPushIntervalMs,
    reRunTimeoutMs: config.reRunTimeoutMs,
    log: (m) => log(`oracle: ${m}`),
  });
  let listener;
  try {
    listener = await listenHttp({ app: service.app, port: config.port, host: config.host });
  } catch (err) {
    store.close();
    throw err;
  }
  const controller = new AbortController();
  const exportNow = () => {
    try {
      exportLogFiles({ store, dir: exportDir });
    } catch (err) {
      log(`oracle: log export to ${exportDir} failed: ${(err as Error).message}`);
    }
  };
  const exporter = config.exportIntervalMs > 0 ? setInterval(exportNow, config.exportIntervalMs) : undefined;
  exporter?.unref();
  const done = service.run(controller.signal);
  // A stage's infrastructure fault stops the loops; whoever holds `done` decides what follows.
  done.catch((err: Error) => log(`oracle: stopped on a fault: ${err.message}`));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      controller.abort();
      await done.catch(() => {});
      clearInterval(exporter);
      exportNow();
      await listener.close();
      store.close();
    })());
  log(`oracle ${keys.nodeId} on ${listener.url} (gateways: ${config.gatewayUrls.join(', ') || 'none yet'})`);
  return { url: listener.url, oracleId: keys.nodeId, service, store, done, stop };
}

const num = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} must be a number, got ${JSON.stringify(v)}`);
  return n;
};

/** `hexedge oracle [flags]`: flags override the config file's keys. Returns the stop function. */
export async function oracleCommand(argv: string[], log: (message: string) => void): Promise<{ stop: () => Promise<void>; done: Promise<void> }> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      gateway: { type: 'string', multiple: true },
      'gateway-reporter': { type: 'string', multiple: true },
      lat: { type: 'string' },
      lng: { type: 'string' },
    },
  });
  if ((values.lat === undefined) !== (values.lng === undefined)) throw new Error('--lat and --lng go together');
  const port = num(values.port, '--port');
  const overrides: Record<string, unknown> = {
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values.gateway ? { gatewayUrls: values.gateway } : {}),
    ...(values['gateway-reporter'] ? { gatewayReporterIds: values['gateway-reporter'] } : {}),
    ...(values.lat !== undefined ? { location: { lat: num(values.lat, '--lat'), lng: num(values.lng, '--lng') } } : {}),
  };
  const fileText = values.config ? await readFile(values.config, 'utf8') : undefined;
  const config = parseOracleServiceConfig({ ...(fileText !== undefined ? { fileText, fileName: values.config! } : {}), overrides });
  const oracle = await startOracle(config, log);
  return { stop: oracle.stop, done: oracle.done };
}
