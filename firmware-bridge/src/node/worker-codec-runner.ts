import { Worker } from 'node:worker_threads';
import type {
  CodecCallOutcome,
  CodecEntry,
  CodecRunner,
  CodecRunnerFactory,
  SandboxLimits,
} from '../codecs/codec-runner.ts';

/**
 * The Node codec runner: one worker thread per JS codec, holding the codec's QuickJS context (source
 * evaluated once, when the thread starts). A call past its budget is stopped by QuickJS's interrupt
 * in the thread or, when the thread does not answer, by the host terminating it (which stops even a
 * native operation the interrupt never sees); either way the thread is replaced and the next call
 * evaluates the source afresh. The event loop never runs codec code, so a runaway codec delays only
 * the devices of its own profile.
 * Cost: about 13 MiB of memory per codec (measured: thread + QuickJS module) and ~0.1 ms per call.
 */
export const workerCodecRunner: CodecRunnerFactory = (options) => new WorkerCodecRunner(options);

/** Starting a thread and compiling QuickJS takes 50–150 ms; this is for a machine under heavy load. */
const WORKER_START_MS = 10_000;
/**
 * Inside the thread QuickJS stops a codec after `timeoutMs` of the thread's CPU time. The host kills
 * the thread when no answer came `timeoutMs` + this much wall time after the call: a codec stuck in
 * one native operation (building huge strings) that the interrupt never sees. Generous, so that a
 * thread that merely waited for a CPU on a loaded machine (load 11 on 2 cores, measured) is not killed.
 */
export const KILL_GRACE_MS = 1_000;
/** Calls queued behind a slow codec; past this they fail at once instead of piling up. */
export const MAX_WAITING_CALLS = 256;
/** The thread's own V8 heap (QuickJS's heap is WebAssembly memory under the codec's memory limit). */
const WORKER_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };
const WORKER_URL = new URL('./codec-worker.ts', import.meta.url);

export interface HostMessage {
  id: number;
  entry: CodecEntry;
  inputJson: string;
}
export type WorkerMessage =
  | { type: 'ready' }
  /** `sticky`: the source itself fails (syntax, throw, limit at the top level), so every call would. */
  | { type: 'failed'; error: string; sticky: boolean }
  | { type: 'result'; id: number; outcome: CodecCallOutcome };

type Loaded = { ok: true } | { ok: false; error: string; sticky: boolean };

interface Live {
  worker: Worker;
  loaded: Promise<Loaded>;
  settleLoaded: (loaded: Loaded) => void;
  pending?: { id: number; settle: (outcome: CodecCallOutcome) => void };
}

export class WorkerCodecRunner implements CodecRunner {
  readonly #source: string;
  readonly #limits: SandboxLimits;
  #live: Live | undefined;
  #sticky: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #nextId = 1;
  #closed = false;
  /** Threads started so far (the first plus one per fault): for tests and logs. */
  starts = 0;

  constructor(options: { source: string; limits: SandboxLimits }) {
    this.#source = options.source;
    this.#limits = options.limits;
  }

  call(request: { entry: CodecEntry; inputJson: string }): Promise<CodecCallOutcome> {
    if (this.#closed)
      return Promise.resolve({
        ok: false,
        error: 'codec closed: its profile was replaced or deleted',
        logs: [],
      });
    if (this.#waiting >= MAX_WAITING_CALLS)
      return Promise.resolve({
        ok: false,
        error: `codec busy: ${MAX_WAITING_CALLS} calls already waiting`,
        logs: [],
      });
    this.#waiting++;
    // One call at a time: the budget of a call starts when the thread gets it, not while it waits.
    const run = this.#queue.then(() => this.#run(request)).finally(() => this.#waiting--);
    this.#queue = run;
    return run;
  }

  async warm(): Promise<void> {
    if (this.#closed || this.#sticky) return;
    await (this.#live ?? this.#spawn()).loaded;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    const live = this.#live;
    this.#live = undefined;
    if (live) await live.worker.terminate();
  }

  async #run(request: { entry: CodecEntry; inputJson: string }): Promise<CodecCallOutcome> {
    if (this.#sticky) return { ok: false, error: this.#sticky, logs: [] };
    const live = this.#live ?? this.#spawn();
    const loaded = await live.loaded;
    if (!loaded.ok) {
      if (loaded.sticky) this.#sticky = loaded.error;
      this.#kill(live);
      return { ok: false, error: loaded.error, logs: [] };
    }
    const { timeoutMs } = this.#limits;
    const killMs = timeoutMs + KILL_GRACE_MS;
    return new Promise<CodecCallOutcome>((resolve) => {
      const id = this.#nextId++;
      const timer = setTimeout(
        () =>
          settle({
            ok: false,
            error: `time limit of ${timeoutMs} ms exceeded: no answer within ${killMs} ms, worker thread terminated`,
            logs: [],
            fault: 'time',
          }),
        killMs,
      );
      const settle = (outcome: CodecCallOutcome) => {
        if (live.pending?.id !== id) return;
        clearTimeout(timer);
        live.pending = undefined;
        // A call stopped half-way may leave the codec's globals half-updated: start from its source again.
        if (!outcome.ok && outcome.fault) this.#kill(live);
        resolve(outcome);
      };
      live.pending = { id, settle };
      const message: HostMessage = { id, ...request };
      live.worker.postMessage(message);
    });
  }

  #spawn(): Live {
    this.starts++;
    const worker = new Worker(WORKER_URL, {
      workerData: { source: this.#source, limits: this.#limits },
      // The codec never sees the worker's globals; this is defence in depth should it ever escape.
      env: {},
      resourceLimits: WORKER_RESOURCE_LIMITS,
      name: 'hexedge-js-codec',
    });
    // An idle codec must not keep the process alive; calls in flight hold timers that do.
    worker.unref();
    let settleLoaded!: (loaded: Loaded) => void;
    const loadMs = this.#limits.evalTimeoutMs + WORKER_START_MS;
    const loaded = new Promise<Loaded>((resolve) => {
      const timer = setTimeout(
        () =>
          resolve({ ok: false, error: `evaluating the source: not done within ${loadMs} ms`, sticky: true }),
        loadMs,
      );
      settleLoaded = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
    });
    const live: Live = { worker, loaded, settleLoaded };
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') live.settleLoaded({ ok: true });
      else if (message.type === 'failed') {
        // Remembered here too: a warmed thread may fail (and exit) before any call waits on it.
        if (message.sticky) this.#sticky = message.error;
        live.settleLoaded({ ok: false, error: message.error, sticky: message.sticky });
        this.#kill(live);
      } else if (live.pending?.id === message.id) live.pending.settle(message.outcome);
    });
    const gone = (why: string) => {
      live.settleLoaded({ ok: false, error: why, sticky: false });
      live.pending?.settle({ ok: false, error: why, logs: [], fault: 'sandbox' });
      if (this.#live === live) this.#live = undefined;
    };
    worker.on('error', (err) => gone(`codec worker failed: ${err.message}`));
    worker.on('exit', (code) => gone(`codec worker exited with code ${code}`));
    this.#live = live;
    return live;
  }

  #kill(live: Live): void {
    if (this.#live === live) this.#live = undefined;
    void live.worker.terminate();
  }
}
