import { createOipApp, GatewayAgent, ModelSet, NodeMetrics } from '@hexedge/edge-node';
import { OrtNodeBackend, readModelDir } from '@hexedge/edge-node/node';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NODE_CONFIG_FILE, parseNodeConfig } from '../config/node-config.ts';
import { listenHttp } from '../listen-http.ts';
import { loadNodeKey } from '../node-keys.ts';

export interface NodeRunFlags {
  dataDir: string;
  port?: number;
  host?: string;
  gatewayUrl?: string;
  modelsDir?: string;
}

/**
 * `hexedge node run`: the edge node's composition root. Loads key and config, loads every model whose
 * hash checks out (a bad one is reported, the rest still serve), serves OIP v2, then keeps registered
 * with the gateway. Returns a stop function that shuts down in reverse order.
 */
export async function nodeRun(flags: NodeRunFlags, log: (message: string) => void): Promise<() => Promise<void>> {
  const configFile = path.join(flags.dataDir, NODE_CONFIG_FILE);
  const configText = await readFile(configFile, 'utf8').catch(() => {
    throw new Error(`no config at ${configFile}; run \`hexedge node init --data-dir ${flags.dataDir} --lat <lat> --lng <lng>\` first`);
  });
  const config = parseNodeConfig(configText, configFile);
  const keys = await loadNodeKey(flags.dataDir);

  const backend = new OrtNodeBackend({ intraOpThreads: config.intraOpThreads });
  const metrics = new NodeMetrics();
  const models = new ModelSet({ scheduler: { onBatch: metrics.observeBatch } });
  metrics.watch(models);
  const modelsDir = path.resolve(flags.dataDir, flags.modelsDir ?? config.modelsDir);
  const { artifacts, problems } = await readModelDir(modelsDir).catch((err: Error) => {
    throw new Error(`cannot read models directory ${modelsDir}: ${err.message}`);
  });
  for (const p of problems) log(`model not loaded: ${p.file}: ${p.message}`);
  for (const a of artifacts) {
    try {
      models.add(await backend.load(a));
      log(`loaded ${a.manifest.name}@${a.manifest.version} (${a.manifest.contentId.slice(0, 12)}…) on ${backend.name}/cpu`);
    } catch (err) {
      log(`model not loaded: ${a.file}: ${(err as Error).message}`);
    }
  }
  if (models.size === 0) log(`warning: no model loaded from ${modelsDir}; the node will serve nothing`);

  const app = createOipApp({ models, keys, isReady: () => true, metrics });
  const host = flags.host ?? config.host;
  const listener = await listenHttp({ app, port: flags.port ?? config.port, host });
  const publicUrl = config.publicUrl ?? listener.url;
  log(`serving OIP v2 on ${listener.url} as node ${keys.nodeId}`);

  const controller = new AbortController();
  const agent = new GatewayAgent({
    gatewayUrl: flags.gatewayUrl ?? config.gatewayUrl,
    keys,
    publicUrl,
    location: config.location,
    hardware: { cpuCores: os.availableParallelism(), memoryMb: Math.round(os.totalmem() / 2 ** 20), executionProviders: [...backend.executionProviders] },
    models: () => models.describe(),
    log,
  });
  const agentDone = agent.run(controller.signal);

  return async () => {
    controller.abort();
    await agentDone;
    await listener.close();
    await models.releaseAll();
  };
}
