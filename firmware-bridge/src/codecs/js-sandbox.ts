import {
  newQuickJSWASMModule,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import {
  boundLogs,
  type CodecCallOutcome,
  type CodecEntry,
  type SandboxFault,
  type SandboxLimits,
} from './codec-runner.ts';
import { SANDBOX_DRIVER } from './sandbox-driver.ts';

/**
 * Untrusted vendor codec source in QuickJS compiled to WebAssembly: its own heap with a memory limit,
 * an interrupt handler for the time limit, no host objects (no fetch, no require, no timers). The
 * source is evaluated ONCE and its context kept, so a call costs the call, not re-parsing the codec
 * (a 220 KiB codec: about 14 ms per uplink when it was re-evaluated per message). Its globals
 * therefore live from one call to the next, as in a long-lived TTN or ChirpStack formatter.
 * node:vm is not a sandbox and isolated-vm is a native addon (not on Workers); QuickJS runs wherever
 * WebAssembly does. The runners decide where it runs (a worker thread on Node).
 */

/** Deep enough for any real codec; below the WebAssembly host stack so QuickJS, not the host, overflows. */
const MAX_STACK_BYTES = 256 * 1024;
/** A decoded object bigger than this is a bug in the codec, not a reading. */
const MAX_RESULT_CHARS = 256 * 1024;
/** Collecting the console lines after a call is a few microseconds; this only stops a hostile getter. */
const DRAIN_TIMEOUT_MS = 20;

let shared: Promise<QuickJSWASMModule> | undefined;

/** Loads the QuickJS WebAssembly module once per thread (about 20 ms), and again after a fault. */
export function loadQuickJS(): Promise<QuickJSWASMModule> {
  shared ??= newQuickJSWASMModule();
  return shared;
}

/**
 * QuickJS asserts (aborting the WebAssembly instance) when it frees a runtime whose objects leaked,
 * e.g. after a stack overflow deep inside a codec's 20 000-level result: the next sandbox gets a
 * fresh module, and the old one's memory goes with it.
 */
function forgetModule(): void {
  shared = undefined;
}

function describeError(
  dumped: unknown,
  limits: { timeoutMs: number; memoryBytes: number },
): { error: string; fault?: SandboxFault } {
  // QuickJS throws null when an allocation fails under the memory limit.
  if (dumped === null || dumped === undefined)
    return { error: `memory limit of ${limits.memoryBytes} bytes exceeded`, fault: 'memory' };
  if (typeof dumped === 'object' && 'message' in dumped) {
    const { name, message } = dumped as { name?: unknown; message?: unknown };
    if (message === 'interrupted')
      return { error: `time limit of ${limits.timeoutMs} ms exceeded`, fault: 'time' };
    if (message === 'out of memory')
      return { error: `memory limit of ${limits.memoryBytes} bytes exceeded`, fault: 'memory' };
    return { error: `${String(name ?? 'Error')}: ${String(message)}` };
  }
  return { error: `threw ${JSON.stringify(dumped)}` };
}

export type SandboxCreated =
  { ok: true; sandbox: CodecSandbox } | { ok: false; error: string; fault?: SandboxFault };

/**
 * What the time limits are measured on (ms, any origin). Wall time by default; the Node worker passes
 * its thread's CPU time, so a codec is stopped for what it ran, not for waiting on a busy machine.
 */
export type SandboxClock = () => number;
const wallClock: SandboxClock = () => Date.now();

export class CodecSandbox {
  readonly #runtime: QuickJSRuntime;
  readonly #context: QuickJSContext;
  readonly #call: QuickJSHandle;
  readonly #drain: QuickJSHandle;
  readonly #limits: SandboxLimits;
  readonly #clock: SandboxClock;
  #disposed = false;

  private constructor(parts: {
    runtime: QuickJSRuntime;
    context: QuickJSContext;
    call: QuickJSHandle;
    drain: QuickJSHandle;
    limits: SandboxLimits;
    clock: SandboxClock;
  }) {
    this.#runtime = parts.runtime;
    this.#context = parts.context;
    this.#call = parts.call;
    this.#drain = parts.drain;
    this.#limits = parts.limits;
    this.#clock = parts.clock;
  }

  /** QuickJS asks every few thousand bytecodes; past the deadline the codec gets an uncatchable 'interrupted'. */
  #deadline(ms: number): void {
    const clock = this.#clock;
    const deadline = clock() + ms;
    this.#runtime.setInterruptHandler(() => clock() > deadline);
  }

  /**
   * Evaluates the driver, then the codec's source (sloppy mode: vendor codecs assign undeclared
   * globals) under `evalTimeoutMs`. A syntax error, a throw or a limit at the top level is the error.
   */
  static async create(options: {
    source: string;
    limits: SandboxLimits;
    clock?: SandboxClock;
  }): Promise<SandboxCreated> {
    const { source, limits } = options;
    const clock = options.clock ?? wallClock;
    let quickjs: QuickJSWASMModule;
    try {
      quickjs = await loadQuickJS();
    } catch (err) {
      forgetModule();
      return {
        ok: false,
        error: `sandbox fault: QuickJS did not load: ${(err as Error).message}`,
        fault: 'sandbox',
      };
    }
    const runtime = quickjs.newRuntime();
    let context: QuickJSContext | undefined;
    try {
      runtime.setMemoryLimit(limits.memoryBytes);
      runtime.setMaxStackSize(MAX_STACK_BYTES);
      const evalDeadline = clock() + limits.evalTimeoutMs;
      runtime.setInterruptHandler(() => clock() > evalDeadline);
      context = runtime.newContext();
      const driver = context.evalCode(SANDBOX_DRIVER, 'driver.js');
      if (driver.error) throw new Error(`driver: ${JSON.stringify(context.dump(driver.error))}`);
      const call = context.getProp(driver.value, 'call');
      const drain = context.getProp(driver.value, 'drain');
      driver.value.dispose();
      const evaluated = context.evalCode(source, 'codec.js');
      if (evaluated.error) {
        const dumped: unknown = context.dump(evaluated.error);
        evaluated.error.dispose();
        call.dispose();
        drain.dispose();
        const { error, fault } = describeError(dumped, {
          timeoutMs: limits.evalTimeoutMs,
          memoryBytes: limits.memoryBytes,
        });
        disposeQuietly(context, runtime);
        return { ok: false, error: `evaluating the source: ${error}`, ...(fault ? { fault } : {}) };
      }
      evaluated.value.dispose();
      return { ok: true, sandbox: new CodecSandbox({ runtime, context, call, drain, limits, clock }) };
    } catch (err) {
      // A host-side fault (the WebAssembly stack, an abort) while loading.
      if (context) disposeQuietly(context, runtime);
      else forgetModule();
      return { ok: false, error: `sandbox fault: ${(err as Error).message}`, fault: 'sandbox' };
    }
  }

  /** Runs one entry point under `timeoutMs`; every failure (throw, loop, allocation, bad JSON) is an outcome. */
  call(request: { entry: CodecEntry; inputJson: string }): CodecCallOutcome {
    if (this.#disposed) return { ok: false, error: 'sandbox already disposed', logs: [], fault: 'sandbox' };
    const ctx = this.#context;
    let outcome: CodecCallOutcome;
    try {
      this.#deadline(this.#limits.timeoutMs);
      const entry = ctx.newString(request.entry);
      const input = ctx.newString(request.inputJson);
      const result = ctx.callFunction(this.#call, ctx.undefined, entry, input);
      entry.dispose();
      input.dispose();
      if (result.error) {
        const dumped: unknown = ctx.dump(result.error);
        result.error.dispose();
        const { error, fault } = describeError(dumped, this.#limits);
        outcome = { ok: false, error, logs: [], ...(fault ? { fault } : {}) };
      } else {
        const text = ctx.typeof(result.value) === 'string' ? ctx.getString(result.value) : undefined;
        result.value.dispose();
        if (text === undefined)
          outcome = { ok: false, error: 'codec returned nothing JSON can represent', logs: [] };
        else if (text.length > MAX_RESULT_CHARS)
          outcome = {
            ok: false,
            error: `codec result is ${text.length} characters, over ${MAX_RESULT_CHARS}`,
            logs: [],
          };
        else outcome = { ok: true, json: text, logs: [] };
      }
    } catch (err) {
      // A host-side fault (e.g. the WebAssembly stack) fails this call; the runner re-creates the sandbox.
      return { ok: false, error: `sandbox fault: ${(err as Error).message}`, logs: [], fault: 'sandbox' };
    }
    outcome.logs = this.#drainLogs();
    return outcome;
  }

  /** One call that touches no codec code, so the first real call does not pay for compiling the call path. */
  warmUp(): void {
    const ctx = this.#context;
    try {
      this.#deadline(this.#limits.timeoutMs);
      const entry = ctx.newString('ping');
      const input = ctx.newString('{}');
      const result = ctx.callFunction(this.#call, ctx.undefined, entry, input);
      entry.dispose();
      input.dispose();
      if (result.error) {
        result.error.dispose();
        return;
      }
      if (ctx.typeof(result.value) === 'string') ctx.getString(result.value);
      result.value.dispose();
    } catch {
      // A real call will meet and report the same fault.
    }
  }

  /** The console lines of the call (and, on the first call, of the top level); none when that fails. */
  #drainLogs() {
    const ctx = this.#context;
    try {
      this.#deadline(DRAIN_TIMEOUT_MS);
      const result = ctx.callFunction(this.#drain, ctx.undefined);
      if (result.error) {
        result.error.dispose();
        return [];
      }
      const text = ctx.typeof(result.value) === 'string' ? ctx.getString(result.value) : '[]';
      result.value.dispose();
      return text.length > MAX_RESULT_CHARS ? [] : boundLogs(JSON.parse(text));
    } catch {
      return [];
    }
  }

  /** Frees the context; a QuickJS abort while freeing costs the module, never the caller. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      this.#call.dispose();
      this.#drain.dispose();
    } catch {
      // Freed with the context below.
    }
    disposeQuietly(this.#context, this.#runtime);
  }
}

function disposeQuietly(context: QuickJSContext, runtime: QuickJSRuntime): void {
  try {
    context.dispose();
    runtime.dispose();
  } catch {
    forgetModule();
  }
}
