/**
 * An edge node in its own process, built as `hexedge node run` builds it (OrtNodeBackend with its
 * default inference worker threads, ModelSet with NodeMetrics, loadModels with warm-up, createOipApp,
 * its Node listener `listenOip` on 127.0.0.1), so that the load
 * generator and the server do not share an event loop. The parent passes the config as argv[2] (JSON)
 * and gets `{ url }` over IPC once the node serves; `{ type: 'stats' }` answers the batches run so far.
 */
import { createOipApp, ModelSet, NodeMetrics } from '@hexedge/edge-node';
import { listenOip, nodeReceiptCrypto, ppocrRecModel } from '@hexedge/edge-node/node';
import { loadModels, OrtNodeBackend, readModelDir } from '@hexedge/edge-node/node';
import { generateNodeKeyPair } from '@hexedge/protocol';
import { fork, type ChildProcess } from 'node:child_process';

export interface NodeProcessConfig {
  modelDir: string;
  /** Also serve ppocr-rec v4 (read from its npm package). */
  ppocr: boolean;
  maxBatchSize: number;
  maxQueueDelayUs: number;
  intraOpThreads: number;
  /** Write a V8 CPU profile of the node process (`--cpu-prof`) into this directory when it closes. */
  cpuProfileDir?: string;
}

export interface BatchStats {
  runs: number;
  rows: number;
  /** Requests answered by model runs. */
  requests: number;
  /** CPU time of the node process, all threads (event loop, inference workers, libuv), user + system. */
  cpuUs: number;
}

export interface NodeProcess {
  url: string;
  stats(): Promise<BatchStats>;
  close(): Promise<void>;
}

/** Starts a node process and resolves once it listens. */
export function startNodeProcess(config: NodeProcessConfig): Promise<NodeProcess> {
  const child: ChildProcess = fork(import.meta.filename, [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: config.cpuProfileDir
      ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${config.cpuProfileDir}`]
      : process.execArgv,
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`node process exited with ${code} before serving`)));
    child.once('message', (m: { url?: string; error?: string }) => {
      if (!m.url) return reject(new Error(`node process failed: ${m.error}`));
      child.removeAllListeners('exit');
      resolve({
        url: m.url,
        stats: () =>
          new Promise((done) => {
            child.once('message', (s: BatchStats) => done(s));
            child.send({ type: 'stats' });
          }),
        // A clean exit, so that --cpu-prof writes its profile; killed if it does not come.
        close: () =>
          new Promise((done) => {
            const kill = setTimeout(() => child.kill(), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.send({ type: 'exit' });
          }),
      });
    });
  });
}

async function main(config: NodeProcessConfig): Promise<void> {
  const stats: BatchStats = { runs: 0, rows: 0, requests: 0, cpuUs: 0 };
  let cpuAtReset = process.cpuUsage();
  const metrics = new NodeMetrics();
  const models = new ModelSet({
    scheduler: {
      maxBatchSize: config.maxBatchSize,
      maxQueueDelayUs: config.maxQueueDelayUs,
      onBatch: (info) => {
        metrics.observeBatch(info);
        stats.runs++;
        stats.rows += info.size;
        stats.requests += info.requests;
      },
    },
  });
  metrics.watch(models);
  const backend = await OrtNodeBackend.create({ intraOpThreads: config.intraOpThreads });
  const { artifacts, problems } = await readModelDir(config.modelDir);
  if (problems.length) throw new Error(problems.map((p) => p.message).join('; '));
  const all = config.ppocr ? [...artifacts, await ppocrRecModel()] : artifacts;
  const report = await loadModels({ artifacts: all, backends: [backend], force: 'onnxruntime-node', models });
  if (report.failed.length)
    throw new Error(report.failed.map((f) => `${f.name}@${f.version}: ${f.message}`).join('; '));
  const app = createOipApp({
    models,
    keys: await generateNodeKeyPair(),
    isReady: () => true,
    metrics,
    crypto: nodeReceiptCrypto,
  });
  const listener = await listenOip({ app, port: 0, host: '127.0.0.1' });
  process.send!({ url: listener.url });
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'exit') {
      void models.releaseAll().finally(() => process.exit(0));
      return;
    }
    const cpu = process.cpuUsage(cpuAtReset);
    process.send!({ ...stats, cpuUs: cpu.user + cpu.system });
    Object.assign(stats, { runs: 0, rows: 0, requests: 0 });
    cpuAtReset = process.cpuUsage();
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] === import.meta.filename && process.send) {
  main(JSON.parse(process.argv[2]!) as NodeProcessConfig).catch((err: Error) => {
    process.send!({ error: err.stack ?? err.message });
    process.exit(1);
  });
}
