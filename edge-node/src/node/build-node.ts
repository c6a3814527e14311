import { answerChallenge, answerProbe, Lifecycle, type Hardware, type NodeKeyPair } from '@hexedge/protocol';
import { describeEd25519Engine, useNodeEd25519 } from '@hexedge/protocol/node';
import os from 'node:os';
import path from 'node:path';
import { GatewayAgent } from '../agent/gateway-agent.ts';
import type { InferenceBackend } from '../backends/backend.ts';
import { DEFAULT_ACCELERATORS, OrtNodeBackend } from './ort-node.ts';
import { OrtWebBackend } from '../backends/ort-web.ts';
import type { NodeConfig } from '../config.ts';
import { KnownCallers } from '../server/known-callers.ts';
import { ModelSet } from '../server/model-set.ts';
import { NodeMetrics } from '../server/metrics.ts';
import { createOipApp } from '../server/oip-app.ts';
import { createReceiptSigner } from '../server/receipt-signer.ts';
import { createPullProgress } from './pull-progress.ts';
import { ModelSync } from './model-sync.ts';
import { nodeReceiptCrypto } from './node-crypto.ts';
import { loadNodeKey } from './node-keys.ts';
import { listenOip } from './oip-listener.ts';

export interface RunningNode {
  nodeId: string;
  /** Where the OIP server listens. */
  url: string;
  /** The URL the node registers (publicUrl, or where it listens). */
  publicUrl: string;
  closed: Promise<void>;
  stop(): Promise<void>;
}

/** The backends this machine can run, best first: native (with any accelerators found), then WASM. */
async function availableBackends(config: NodeConfig, log: (m: string) => void): Promise<InferenceBackend[]> {
  const backends: InferenceBackend[] = [];
  if (config.backend !== 'onnxruntime-web') {
    try {
      const native = await OrtNodeBackend.create({
        intraOpThreads: config.intraOpThreads,
        accelerators: DEFAULT_ACCELERATORS,
        workers: config.inferenceWorkers === 'auto' ? undefined : config.inferenceWorkers,
        log,
      });
      backends.push(native);
      log(acceleratorLine(native));
    } catch (err) {
      log(`onnxruntime-node is not usable here (${(err as Error).message}); falling back to WebAssembly`);
    }
  }
  if (config.backend !== 'onnxruntime-node')
    backends.push(new OrtWebBackend({ numThreads: config.wasmThreads }));
  return backends;
}

/** One line on what accelerates this node's models, and why the others do not. */
function acceleratorLine(backend: OrtNodeBackend): string {
  const found = backend.executionProviders.filter((ep) => ep !== 'cpu');
  const missing = backend.unavailableAccelerators.map((u) => `${u.ep}: ${u.reason}`).join('; ');
  const threads =
    backend.inferenceThreads > 0
      ? `${backend.inferenceThreads} inference worker thread(s) shared by the models`
      : 'sessions on the event loop';
  if (found.length === 0)
    return `accelerators: none usable, models that prefer one run on cpu (${missing}); ${threads}`;
  return `accelerators: ${found.join(', ')} for models that prefer one${missing ? ` (not usable: ${missing})` : ''}; ${threads}`;
}

/**
 * The edge node deployable's one builder (`hexedge node run`, which `hexedge dev` spawns, and the
 * tests): key from the data directory, backends, the OIP v2 server (live at once, ready once a model
 * is served), the models — what the directory holds, what the config names, on a first run what the
 * gateway says a node here should pull, and then the planner's desired models from heartbeat answers —
 * and the agent that registers and heartbeats. The signal stops it in reverse order.
 */
export async function buildEdgeNode(
  config: NodeConfig,
  options: {
    dataDir: string;
    signal: AbortSignal;
    log?: (line: string) => void;
    keys?: NodeKeyPair;
    /** false: take forward signatures only, as a node from before forward MACs (tests of gateways' fallback). */
    forwardMacs?: boolean;
  },
): Promise<RunningNode> {
  // Ed25519 through libsodium (else node:crypto) for every signature this process makes or checks.
  const ed25519 = useNodeEd25519();
  const log = options.log ?? (() => {});
  log(describeEd25519Engine(ed25519));
  const life = new Lifecycle({ signal: options.signal, log });
  return life.start(async () => {
    const keys = options.keys ?? (await loadNodeKey(options.dataDir));
    const backends = await availableBackends(config, log);
    log(`backends: ${backends.map((b) => `${b.name} (${b.executionProviders.join(', ')})`).join('; ')}`);
    const hardware: Hardware = {
      cpuCores: os.availableParallelism(),
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      executionProviders: [...new Set(backends.flatMap((b) => b.executionProviders))],
    };
    const metrics = new NodeMetrics();
    const models = new ModelSet({ scheduler: { ...config.scheduler, onBatch: metrics.observeBatch } });
    metrics.watch(models);
    life.defer('models', () => models.releaseAll());
    const modelsDir = path.resolve(options.dataDir, config.modelsDir);
    const sync = new ModelSync({
      modelsDir,
      models,
      backends,
      force: config.backend,
      gatewayUrl: config.gatewayUrl,
      peers: config.peers ?? [],
      location: config.location,
      hardware,
      onProgress: createPullProgress({ stream: process.stdout, log }),
      log,
    });

    // Inference only for requests a gateway or oracle it knows signed for it: no relay can resell it.
    const callers = new KnownCallers({
      ids: [...config.gatewayIds, ...config.oracleIds],
      gatewayUrl: config.gatewayUrl,
      log,
      onRefused: (reason) => metrics.forwardersRefused.inc({ reason }),
    });
    void callers.refresh();
    // Also with no request asking: a key the gateway dropped must stop working even if no traffic comes.
    const rereading = new AbortController();
    callers.watch({ intervalMs: config.gatewayKeysRefreshMs, signal: rereading.signal });
    life.defer('gateway key re-reads', () => rereading.abort());
    const app = createOipApp({
      models,
      keys,
      isReady: () => models.size > 0,
      metrics,
      artifacts: sync.artifacts,
      crypto: nodeReceiptCrypto,
      receipts: createReceiptSigner({ crypto: nodeReceiptCrypto, keys, receipts: config.receipts }),
      callers,
      ...(options.forwardMacs === false ? { forwardMacs: false } : {}),
      // The coverage oracle's latency challenges (proof of location) and probes (this node as challenger).
      oracle: {
        answerChallenge: (raw) => answerChallenge(raw, keys),
        answerProbe: (raw) =>
          answerProbe(raw, { node: keys, location: config.location, oracleIds: config.oracleIds, fetch }),
      },
    });
    const listener = await listenOip({ app, port: config.port, host: config.host });
    life.defer('OIP listener', () => listener.close());
    const publicUrl = config.publicUrl ?? listener.url;
    log(`serving OIP v2 on ${listener.url} as node ${keys.nodeId}`);

    const running = new AbortController();
    await sync.loadDir();
    const agent = new GatewayAgent({
      gatewayUrl: config.gatewayUrl,
      keys,
      publicUrl,
      location: config.location,
      hardware,
      models: () => models.describe(),
      // The planner's plan for this node: pull what it lacks, in the background (serving goes on).
      onAck: (ack) => {
        if (ack.desiredModels?.length) void sync.want(ack.desiredModels, 'the placement plan');
      },
      log,
    });
    const background = (async () => {
      if (config.models?.length) await sync.want(config.models, 'node.yaml models');
      if (models.size === 0) await sync.firstRun(running.signal);
      if (running.signal.aborted) return;
      await agent.run(running.signal);
    })();
    life.defer('model sync and gateway agent', async () => {
      running.abort();
      await background;
    });
    return {
      nodeId: keys.nodeId,
      url: listener.url,
      publicUrl,
      closed: life.closed,
      stop: () => life.stop(),
    };
  });
}
