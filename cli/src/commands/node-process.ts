import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** A node gets this long to finish in-flight work after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
const HEXEDGE_BIN = path.resolve(import.meta.dirname, '../../bin/hexedge.js');

export interface NodeProcess {
  name: string;
  readonly exited: boolean;
  /** Resolves when the node says it registered with the gateway (its own log line: a positive marker). */
  registered: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `hexedge node run` — the operator's command — as a child process. The IPC channel doubles as
 * a lifeline: if this parent dies, the channel closes and the node shuts itself down, so no node
 * outlives `hexedge dev`.
 */
export function spawnNode(options: {
  name: string;
  dataDir: string;
  gatewayUrl: string;
  modelsDir: string;
  log: (m: string) => void;
}): NodeProcess {
  const child = spawn(
    process.execPath,
    [
      HEXEDGE_BIN,
      'node',
      'run',
      '--data-dir',
      options.dataDir,
      '--port',
      '0',
      '--gateway',
      options.gatewayUrl,
      '--models-dir',
      path.resolve(options.modelsDir),
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  let exited = false;
  const done = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  let markRegistered!: () => void;
  const registered = new Promise<void>((resolve) => (markRegistered = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => {
      if (line.startsWith('registered with gateway ')) markRegistered();
      options.log(`[node ${options.name}] ${line}`);
    });
  }
  return {
    name: options.name,
    get exited() {
      return exited;
    },
    registered,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await done;
      clearTimeout(timer);
    },
  };
}
