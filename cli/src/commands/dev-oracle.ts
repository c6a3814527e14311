import { httpOracleReader, ReceiptForwarder } from '@hexedge/gateway';
import { generateNodeKeyPair } from '@hexedge/protocol';
import path from 'node:path';
import { parseOracleServiceConfig } from '../config/oracle-config.ts';
import { startOracle } from './oracle.ts';

/**
 * The coverage oracle as `hexedge dev` runs it: its own HTTP service (the same one `hexedge oracle`
 * runs), fed every answered receipt by the gateway's forwarder, pushing signed trust back to the
 * gateway. Location proofs are off: every node shares this machine, so round trips say nothing about
 * their cities (and a 1 ms round trip would make the other cities' claims look impossible).
 */
export async function startDevOracle(options: { dataDir: string; host: string; log: (m: string) => void }) {
  const gatewayReportKey = await generateNodeKeyPair();
  const config = parseOracleServiceConfig({
    overrides: {
      host: options.host,
      port: 0,
      dataDir: path.join(options.dataDir, 'oracle'),
      gatewayUrls: [],
      gatewayReporterIds: [gatewayReportKey.nodeId],
      challengeIntervalMs: 0,
      directoryRefreshMs: 2_000,
      trustPushIntervalMs: 1_000,
      oracle: { samplingRate: 0.2, scoreIntervalMs: 2_000 },
    },
  });
  const oracle = await startOracle(config, options.log);
  const forwarder = new ReceiptForwarder({ oracleUrl: oracle.url, keys: gatewayReportKey, log: (m) => options.log(`gateway: ${m}`) });
  const forwarding = new AbortController();
  const forwarderDone = forwarder.run(forwarding.signal);
  return {
    url: oracle.url,
    /** Options for createGatewayApp. */
    gateway: { oracle: { url: oracle.url, oracleIds: [oracle.oracleId] }, onAnswered: forwarder.onAnswered },
    reader: httpOracleReader({ oracleUrl: oracle.url }),
    /** The oracle reads this list at each use, so the gateway's URL can be added once it listens. */
    addGatewayUrl: (url: string) => config.gatewayUrls.push(url),
    async stop() {
      forwarding.abort();
      await forwarderDone;
      await oracle.stop();
    },
  };
}
