/**
 * One real edge node for the gateway suite, started the way an operator starts one: `hexedge node init`
 * (key pair, location claim, config) in a temp data dir, then `hexedge node run` with a models dir
 * holding only `comfort-index`, the project's tiny model (a 3×3 MatMul + Add + Softmax), so that what
 * the suite measures is the fabric's own overhead, not the model. The node registers with the gateway
 * over HTTP and heartbeats, as in `hexedge dev`; its default scheduler (dynamic batching) is left on.
 */
import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const HEXEDGE_BIN = path.resolve(import.meta.dirname, '../../../cli/bin/hexedge.js');
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

export const COMFORT_MODEL = 'comfort-index';
export const COMFORT_VERSION = '1';

export interface EdgeNode {
  url: string;
  nodeId: string;
  /** CPU time the node process has used so far (all its threads), µs, from /proc (10 ms ticks). */
  cpuUs(): number;
  stop(): Promise<void>;
}

/** Writes comfort-index (artifact + manifest) into `modelsDir`. */
export async function writeComfortModel(modelsDir: string): Promise<void> {
  const bytes = buildComfortIndexModel();
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(bytes), bytes });
}

/**
 * `gatewayIds`: forwarders the node serves besides its gateway (the suite's own key, which signs the
 * proxy's and the direct requests, as a second gateway would).
 */
export async function startEdgeNode(options: {
  dataDir: string;
  modelsDir: string;
  gatewayUrl: string;
  lat: number;
  lng: number;
  gatewayIds?: string[];
}): Promise<EdgeNode> {
  const { dataDir, gatewayUrl } = options;
  const init = spawnSync(
    process.execPath,
    [
      HEXEDGE_BIN,
      'node',
      'init',
      '--data-dir',
      dataDir,
      '--lat',
      String(options.lat),
      '--lng',
      String(options.lng),
      '--gateway',
      gatewayUrl,
    ],
    { encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`hexedge node init failed: ${init.stderr || init.stdout}`);
  if (options.gatewayIds?.length)
    appendFileSync(
      path.join(dataDir, 'node.yaml'),
      `\ngatewayIds:\n${options.gatewayIds.map((id) => `  - ${id}\n`).join('')}`,
    );
  const nodeId = /node (\S+) initialised/.exec(init.stdout)?.[1] ?? 'unknown';

  // The IPC channel is the node's lifeline: if this process dies, the node shuts itself down.
  const child = spawn(
    process.execPath,
    [
      HEXEDGE_BIN,
      'node',
      'run',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--gateway',
      gatewayUrl,
      '--models-dir',
      path.resolve(options.modelsDir),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  let onEarlyExit: (code: number | null) => void = () => {};
  const serving = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`edge node did not serve within ${START_TIMEOUT_MS} ms:\n${lines.join('\n')}`)),
      START_TIMEOUT_MS,
    );
    onEarlyExit = (code) =>
      reject(new Error(`edge node exited with ${code} during start-up:\n${lines.join('\n')}`));
    child.once('exit', onEarlyExit);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (lines.length > 50) lines.shift();
        const match = /serving OIP v2 on (\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    }
  });
  let url: string;
  try {
    url = await serving;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.off('exit', onEarlyExit);
  return {
    url,
    nodeId,
    cpuUs: () => processCpuUs(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** User + system CPU of a process (all threads) from /proc/<pid>/stat, µs (Linux ticks are 1/100 s). */
export function processCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
