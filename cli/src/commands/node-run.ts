import { createOipApp, GatewayAgent, ModelSet, NodeMetrics, type InferenceBackend } from '@hexedge/edge-node';
import { DEFAULT_ACCELERATORS, loadModels, ModelDirArtifacts, OrtNodeBackend, OrtWebBackend, readModelDir } from '@hexedge/edge-node/node';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { answerChallenge, answerProbe } from '@hexedge/coverage-oracle';
import { NODE_CONFIG_FILE, parseNodeConfig, type NodeConfig } from '../config/node-config.ts';
import { listenHttp } from '../listen-http.ts';
import { loadNodeKey } from '../node-keys.ts';
import { pullSources } from './node-models.ts';
import { pullMissingModels } from './pull-missing.ts';

export interface NodeRunFlags {
  dataDir: string;
  port?: number;
  host?: string;
  gatewayUrl?: string;
  modelsDir?: string;
  /** Peer nodes to pull missing models from, nearest first (overrides the config's `peers`). */
  peers?: string[];
}

/** The backends this machine can run, best first: native (with any accelerators found), then WASM. */
async function availableBackends(config: NodeConfig, log: (m: string) => void): Promise<InferenceBackend[]> {
  const backends: InferenceBackend[] = [];
  if (config.backend !== 'onnxruntime-web') {
    try {
      backends.push(await OrtNodeBackend.create({ intraOpThreads: config.intraOpThreads, accelerators: DEFAULT_ACCELERATORS }));
    } catch (err) {
      log(`onnxruntime-node is not usable here (${(err as Error).message}); falling back to WebAssembly`);
    }
  }
  if (config.backend !== 'onnxruntime-node') backends.push(new OrtWebBackend({ numThreads: config.wasmThreads }));
  return backends;
}

/**
 * `hexedge node run`: the edge node's composition root. Loads key and config, loads and warms up every
 * model whose hash checks out (a bad one is reported, the rest still serve), serves OIP v2, then keeps
 * registered with the gateway. Returns a stop function that shuts down in reverse order.
 */
export async function nodeRun(flags: NodeRunFlags, log: (message: string) => void): Promise<() => Promise<void>> {
  const configFile = path.join(flags.dataDir, NODE_CONFIG_FILE);
  const configText = await readFile(configFile, 'utf8').catch(() => {
    throw new Error(`no config at ${configFile}; run \`hexedge node init --data-dir ${flags.dataDir} --lat <lat> --lng <lng>\` first`);
  });
  const config = parseNodeConfig(configText, configFile);
  const keys = await loadNodeKey(flags.dataDir);

  const backends = await availableBackends(config, log);
  log(`backends: ${backends.map((b) => `${b.name} (${b.executionProviders.join(', ')})`).join('; ')}`);
  const metrics = new NodeMetrics();
  const models = new ModelSet({ scheduler: { onBatch: metrics.observeBatch } });
  metrics.watch(models);
  const modelsDir = path.resolve(flags.dataDir, flags.modelsDir ?? config.modelsDir);
  if (config.models?.length) {
    const sources = pullSources({ peers: flags.peers ?? config.peers ?? [], gatewayUrl: flags.gatewayUrl ?? config.gatewayUrl });
    await pullMissingModels({ refs: config.models, modelsDir, sources, log });
  }
  const { artifacts, problems } = await readModelDir(modelsDir).catch((err: Error) => {
    throw new Error(`cannot read models directory ${modelsDir}: ${err.message}`);
  });
  for (const p of problems) log(`model not loaded: ${p.file}: ${p.message}`);
  const report = await loadModels({ artifacts, backends, force: config.backend, models });
  for (const m of report.loaded) log(`loaded ${m.name}@${m.version} on ${m.backend}/${m.executionProvider} (warm-up ${m.warmUpMs.toFixed(1)} ms)`);
  for (const m of report.failed) log(`model not loaded: ${m.name}@${m.version}: ${m.message}`);
  if (models.size === 0) log(`warning: no model loaded from ${modelsDir}; the node will serve nothing`);

  const app = createOipApp({ models, keys, isReady: () => true, metrics, artifacts: new ModelDirArtifacts(artifacts) ,
    // The coverage oracle's latency challenges (proof of location) and probes (this node as challenger).
    oracle: {
      answerChallenge: (raw) => answerChallenge(raw, keys),
      answerProbe: (raw) => answerProbe(raw, { node: keys, location: config.location, oracleIds: config.oracleIds, fetch }),
    },
  });
  const listener = await listenHttp({ app, port: flags.port ?? config.port, host: flags.host ?? config.host });
  log(`serving OIP v2 on ${listener.url} as node ${keys.nodeId}`);

  const controller = new AbortController();
  const agent = new GatewayAgent({
    gatewayUrl: flags.gatewayUrl ?? config.gatewayUrl,
    keys,
    publicUrl: config.publicUrl ?? listener.url,
    location: config.location,
    hardware: {
      cpuCores: os.availableParallelism(),
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      executionProviders: [...new Set(backends.flatMap((b) => b.executionProviders))],
    },
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
