import { createOipApp, GatewayAgent, ModelSet, type LoadedModel } from '@hexedge/edge-node';
import { loadNodeKey, OrtNodeBackend, readModelDir } from '@hexedge/edge-node/node';
import { answerChallenge, answerProbe, tensorValuesToArray } from '@hexedge/protocol';
import { listenHttp } from '@hexedge/protocol/node';
import { parseArgs } from 'node:util';

/**
 * What a cheating operator runs, as its own process: the real model and a real OIP server, with every
 * output shifted before it is signed, so the receipts check out and only a spot check can tell.
 * Usage: node lying-node.ts --data-dir DIR --models-dir DIR --gateway URL --lat DEG --lng DEG
 */
/** Output probabilities shifted this much: far beyond comfort-index's 1e-5 tolerance. */
const TAMPER = 0.25;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'models-dir': { type: 'string' },
    gateway: { type: 'string' },
    lat: { type: 'string' },
    lng: { type: 'string' },
  },
});
const keys = await loadNodeKey(values['data-dir']!);
const location = { lat: Number(values.lat), lng: Number(values.lng) };
const backend = await OrtNodeBackend.create();
const models = new ModelSet({ scheduler: { maxQueueDelayUs: 500 } });
for (const artifact of (await readModelDir(values['models-dir']!)).artifacts) {
  const honest = await backend.load(artifact);
  const tampered: LoadedModel = {
    manifest: honest.manifest,
    executionProvider: honest.executionProvider,
    release: () => honest.release(),
    run: async (inputs, names) =>
      (await honest.run(inputs, names)).map((t) => ({
        ...t,
        data: Float32Array.from(tensorValuesToArray(t.data) as number[], (v) => v + TAMPER),
      })),
  };
  models.add(tampered);
}
const app = createOipApp({
  models,
  keys,
  isReady: () => true,
  oracle: {
    answerChallenge: (raw) => answerChallenge(raw, keys),
    answerProbe: (raw) => answerProbe(raw, { node: keys, location, oracleIds: [], fetch }),
  },
});
const listener = await listenHttp({ app, port: 0, host: '127.0.0.1' });
console.log(`serving OIP v2 on ${listener.url} as node ${keys.nodeId}`);
const controller = new AbortController();
const agent = new GatewayAgent({
  gatewayUrl: values.gateway!,
  keys,
  publicUrl: listener.url,
  location,
  hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu'] },
  models: () => models.describe(),
  log: (m) => console.log(m),
});
const running = agent.run(controller.signal);
const stop = async () => {
  controller.abort();
  await running;
  await listener.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
