import { parentPort, workerData } from 'node:worker_threads';
import type { CodecEntry, SandboxLimits } from '../codecs/codec-runner.ts';
import { CodecSandbox } from '../codecs/js-sandbox.ts';
import type { HostMessage, WorkerMessage } from './worker-codec-runner.ts';

/**
 * One JS codec's worker thread: evaluates the source once, says `ready` (or `failed`), then answers
 * calls one at a time. It never recovers from a fault itself: the host terminates it and starts a
 * fresh one, so a codec stuck anywhere (even inside one native operation) costs this thread only.
 */
const port = parentPort!;
const { source, limits } = workerData as { source: string; limits: SandboxLimits };
const post = (message: WorkerMessage) => port.postMessage(message);

/**
 * The budgets count this thread's CPU time (process.threadCpuUsage; wall time on a Node without it):
 * a codec is stopped for running 100 ms, not for waiting 100 ms on a loaded machine. The host's
 * wall-clock kill stays the backstop for what the interrupt cannot see.
 */
const threadCpuUsage = (process as { threadCpuUsage?: () => { user: number; system: number } })
  .threadCpuUsage;
const clock = threadCpuUsage
  ? () => {
      const used = threadCpuUsage.call(process);
      return (used.user + used.system) / 1000;
    }
  : () => Date.now();

// Listening before evaluating: a port first listened to after a long top-level await delivered its
// first message 30–70 ms late (measured), which a call would pay.
let sandbox: CodecSandbox | undefined;
port.on('message', (message: HostMessage) => {
  const outcome = sandbox
    ? sandbox.call({ entry: message.entry as CodecEntry, inputJson: message.inputJson })
    : // The host sends calls only after `ready`; this answers a host that did not wait.
      { ok: false as const, error: 'codec not loaded yet', logs: [], fault: 'sandbox' as const };
  post({ type: 'result', id: message.id, outcome });
});
const created = await CodecSandbox.create({ source, limits, clock });
if (!created.ok) {
  // The host terminates this thread when it reads this.
  post({ type: 'failed', error: created.error, sticky: created.fault !== 'sandbox' });
} else {
  sandbox = created.sandbox;
  sandbox.warmUp();
  post({ type: 'ready' });
}
