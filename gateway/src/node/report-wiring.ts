// The gateway's report key (kept under the data directory, so oracles that know this gateway keep
// knowing it across restarts) and, when configured, the receipt forwarding that signs with it, run
// until shutdown and flushed after the ingresses and the listener have stopped.
import type { Lifecycle } from '@hexedge/protocol';
import { loadOrCreateKeyFile } from '@hexedge/protocol/node';
import path from 'node:path';
import { nodeSha256Hex } from '../adapters/node-hash.ts';
import type { GatewayConfig } from '../config.ts';
import { ReceiptForwarder } from '../oracle-forwarder.ts';

/** The file under the data directory holding the key the gateway signs receipt reports with. */
export const REPORT_KEY_FILE = 'report-key.json';

/** Loads (or creates) the report key and starts the forwarder when `oracle.forwardReceipts`. */
export async function startReporting(o: {
  config: GatewayConfig;
  life: Lifecycle;
  log: (line: string) => void;
}): Promise<{
  reportKey: Awaited<ReturnType<typeof loadOrCreateKeyFile>>;
  forwarder: ReceiptForwarder | undefined;
}> {
  const { config, life, log } = o;
  const reportKey = await loadOrCreateKeyFile(path.join(config.dataDir, REPORT_KEY_FILE));
  if (reportKey.created) log(`gateway report key ${reportKey.keys.nodeId} created in ${config.dataDir}`);
  let forwarder: ReceiptForwarder | undefined;
  if (config.oracle?.forwardReceipts) {
    forwarder = new ReceiptForwarder({
      oracleUrl: config.oracle.url,
      keys: reportKey.keys,
      sha256: nodeSha256Hex,
      log: (m) => log(`gateway: ${m}`),
    });
    const stopForwarding = new AbortController();
    const forwarding = forwarder.run(stopForwarding.signal);
    // Closed after the ingresses and the listener (deferred before them): the last answers are flushed.
    life.defer('receipt forwarder', async () => {
      stopForwarding.abort();
      await forwarding;
    });
  }
  return { reportKey, forwarder };
}
