import { loadOrCreateOracleKey, SqliteOracleStore } from '@hexedge/coverage-oracle/node';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  HERE,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
  type GatewayOptions,
} from './fabric.ts';
import { freePort, startHexedge, startProcess, type Proc } from '@hexedge/test-kit';

/** Reward epochs this short close several times within one scenario. */
export const EPOCH_MS = 3_000;
export const SETTLE_MS = 300;

/** The oracle's key, made before its first start, so the gateway's config can name its id. */
export async function oracleIdentity(dataDir: string): Promise<string> {
  return (await loadOrCreateOracleKey(dataDir)).keys.nodeId;
}

/**
 * Bonds stake for nodes in the oracle's store before it starts: no HTTP route bonds (stake comes
 * from outside, e.g. a chain), so the suite writes the bond events an operator's deposit would.
 */
export function bondStake(options: { dataDir: string; nodeIds: string[]; amountBaseUnits: bigint }): void {
  const store = new SqliteOracleStore({ path: path.join(options.dataDir, 'oracle.sqlite') });
  try {
    for (const nodeId of options.nodeIds)
      store.appendStakeEvent({
        nodeId,
        type: 'bond',
        amountBaseUnits: options.amountBaseUnits.toString(),
        atMs: Date.now(),
      });
  } finally {
    store.close();
  }
}

/** `hexedge oracle --config FILE` (receipts from the configured gateway's report key): every receipt sampled, short epochs, no location challenges (one machine). */
export async function startOracleProcess(options: {
  dataDir: string;
  port: number;
  gatewayUrl: string;
  /** More gateways, listed before gatewayUrl (default none). */
  moreGatewayUrls?: string[];
  /** Default 300: the suite's gateway is read soon after it starts. */
  directoryRefreshMs?: number;
}): Promise<Proc & { url: string }> {
  const configFile = `${options.dataDir}.yaml`;
  const yaml = [
    'host: 127.0.0.1',
    `port: ${options.port}`,
    `dataDir: ${JSON.stringify(options.dataDir)}`,
    `gatewayUrls: [${[...(options.moreGatewayUrls ?? []), options.gatewayUrl].join(', ')}]`,
    // The gateway's report key is learnt from its identity endpoint (GET /v1/gateway/identity).
    `location: { lat: ${HERE.lat}, lng: ${HERE.lng} }`,
    'challengeIntervalMs: 0',
    `directoryRefreshMs: ${options.directoryRefreshMs ?? 300}`,
    'trustPushIntervalMs: 200',
    'fullTrustPushIntervalMs: 1000',
    'exportIntervalMs: 0',
    'oracle:',
    `  epochMs: ${EPOCH_MS}`,
    `  settleMs: ${SETTLE_MS}`,
    '  samplingRate: 1',
    '  checkersPerSample: 2',
    '  minCheckerResponses: 2',
    '  scoreIntervalMs: 200',
    '  idleMs: 50',
  ].join('\n');
  await writeFile(configFile, `${yaml}\n`);
  const proc = await startHexedge({
    name: 'hexedge oracle',
    args: ['oracle', '--config', configFile],
    ready: /^oracle \S+ on (\S+)/,
  });
  return { ...proc, url: proc.match[1]! };
}

/**
 * The deployables on their own, each from its command and config file: `hexedge oracle` (reading the
 * gateway as configured, plus `moreGatewayUrls` listed first), `hexedge gateway` forwarding receipts
 * to it, and one `hexedge node run`, in a scratch folder. `gatewayOptions` restarts the gateway as it was.
 */
export async function startOracleGatewayNode(options: {
  name: string;
  moreGatewayUrls?: string[];
  directoryRefreshMs?: number;
}) {
  const fs = await scratch(options.name);
  const oracleDir = path.join(fs.dir, 'oracle');
  const oracleId = await oracleIdentity(oracleDir);
  const [gatewayPort, oraclePort] = [await freePort(), await freePort()];
  const oracle = await startOracleProcess({
    dataDir: oracleDir,
    port: oraclePort,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    ...(options.moreGatewayUrls ? { moreGatewayUrls: options.moreGatewayUrls } : {}),
    ...(options.directoryRefreshMs !== undefined ? { directoryRefreshMs: options.directoryRefreshMs } : {}),
  });
  const gatewayOptions: GatewayOptions = {
    dataDir: path.join(fs.dir, 'gateway'),
    modelsDir: fs.modelsDir,
    port: gatewayPort,
    oracle: { url: oracle.url, oracleIds: [oracleId] },
  };
  const gateway = await startGatewayProcess(gatewayOptions);
  const node = await startNodeProcess({
    dir: fs.dir,
    name: 'n0',
    gatewayUrl: gateway.url,
    modelsDir: fs.modelsDir,
    place: NODE_PLACES[0]!,
  });
  return { fs, oracle, oracleDir, gatewayOptions, gateway, node };
}

/** The cheating operator's node (lying-node.ts) as its own process. */
export async function startLyingNode(options: {
  dataDir: string;
  modelsDir: string;
  gatewayUrl: string;
  place: { lat: number; lng: number };
}): Promise<Proc> {
  return startProcess({
    name: 'lying node',
    command: process.execPath,
    args: [
      path.join(import.meta.dirname, 'lying-node.ts'),
      '--data-dir',
      options.dataDir,
      '--models-dir',
      options.modelsDir,
      '--gateway',
      options.gatewayUrl,
      '--lat',
      String(options.place.lat),
      '--lng',
      String(options.place.lng),
    ],
    ready: /serving OIP v2 on \S+ as node/,
  });
}
