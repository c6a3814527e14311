import { newQuickJSWASMModule, shouldInterruptAfterDeadline, type QuickJSWASMModule } from 'quickjs-emscripten';

/**
 * Runs untrusted vendor codec source in QuickJS compiled to WebAssembly: a separate heap with its own
 * memory limit, an interrupt handler for the time limit, no host objects (no fetch, no require, no
 * timers). Each call gets a fresh runtime, so one message's globals never leak into the next.
 * node:vm is not a sandbox, isolated-vm is a native addon (not on Workers), and a Worker thread
 * costs milliseconds and megabytes per call; QuickJS runs everywhere WebAssembly does.
 */
export interface SandboxLimits {
  timeoutMs: number;
  memoryBytes: number;
}

/** TTN stops payload formatters after 100 ms; vendor codecs finish in well under 1 ms. */
export const DEFAULT_CODEC_TIMEOUT_MS = 100;
/** Generous for byte-twiddling, small enough that a runaway allocation costs little. */
export const DEFAULT_CODEC_MEMORY_BYTES = 16 * 1024 * 1024;
/** Deep enough for any real codec; below the WebAssembly host stack so QuickJS, not the host, overflows. */
const MAX_STACK_BYTES = 256 * 1024;
/** A decoded object bigger than this is a bug in the codec, not a reading. */
const MAX_RESULT_CHARS = 256 * 1024;

export type SandboxOutcome = { ok: true; value: unknown } | { ok: false; error: string };

let shared: Promise<QuickJSWASMModule> | undefined;

/** Loads the QuickJS WebAssembly module once per process (about 20 ms), and again after a fault. */
export function loadQuickJS(): Promise<QuickJSWASMModule> {
  shared ??= newQuickJSWASMModule();
  return shared;
}

function describeError(dumped: unknown, limits: SandboxLimits): string {
  // QuickJS throws null when an allocation fails under the memory limit.
  if (dumped === null || dumped === undefined) return `memory limit of ${limits.memoryBytes} bytes exceeded`;
  if (typeof dumped === 'object' && 'message' in dumped) {
    const { name, message } = dumped as { name?: unknown; message?: unknown };
    if (message === 'interrupted') return `time limit of ${limits.timeoutMs} ms exceeded`;
    if (message === 'out of memory') return `memory limit of ${limits.memoryBytes} bytes exceeded`;
    return `${String(name ?? 'Error')}: ${String(message)}`;
  }
  return `threw ${JSON.stringify(dumped)}`;
}

/**
 * Evaluates `source` (sloppy mode: vendor codecs assign undeclared globals), then `driver`, which must
 * evaluate to a JSON string. Every failure (throw, loop, allocation, bad JSON) is an outcome.
 */
export async function runInSandbox(options: { source: string; driver: string; limits: SandboxLimits }): Promise<SandboxOutcome> {
  const quickjs = await loadQuickJS();
  const runtime = quickjs.newRuntime();
  let outcome: SandboxOutcome;
  try {
    outcome = evaluate(runtime, options);
  } finally {
    try {
      runtime.dispose();
    } catch (err) {
      // QuickJS asserts (aborting the WebAssembly instance) when it frees a runtime whose objects leaked,
      // e.g. after a stack overflow deep inside a codec's 20 000-level result: fail this message only,
      // and give the next message a fresh module (the old one's memory goes with it).
      shared = undefined;
      outcome = { ok: false, error: `sandbox fault: ${(err as Error).message}` };
    }
  }
  return outcome;
}

function evaluate(runtime: ReturnType<QuickJSWASMModule['newRuntime']>, options: { source: string; driver: string; limits: SandboxLimits }): SandboxOutcome {
  const { source, driver, limits } = options;
  try {
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + limits.timeoutMs));
    const context = runtime.newContext();
    try {
      for (const [code, filename] of [[source, 'codec.js'], [driver, 'driver.js']] as const) {
        const result = context.evalCode(code, filename);
        if (result.error) {
          const dumped: unknown = context.dump(result.error);
          result.error.dispose();
          return { ok: false, error: describeError(dumped, limits) };
        }
        if (filename === 'codec.js') {
          result.value.dispose();
          continue;
        }
        const text: unknown = context.dump(result.value);
        result.value.dispose();
        if (typeof text !== 'string') return { ok: false, error: 'codec returned nothing JSON can represent' };
        if (text.length > MAX_RESULT_CHARS) return { ok: false, error: `codec result is ${text.length} characters, over ${MAX_RESULT_CHARS}` };
        return { ok: true, value: JSON.parse(text) };
      }
      return { ok: false, error: 'unreachable' };
    } finally {
      context.dispose();
    }
  } catch (err) {
    // A host-side fault (e.g. the WebAssembly stack) still fails this message only.
    return { ok: false, error: `sandbox fault: ${(err as Error).message}` };
  }
}
