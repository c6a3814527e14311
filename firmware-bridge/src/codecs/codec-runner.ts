import type { CodecLogLine } from './codec.ts';

/**
 * Where a JS codec runs. A runner holds one codec whose source was evaluated once (its QuickJS
 * context is kept between calls) and answers calls one at a time. The runtime-neutral core only sees
 * this interface: on Node the runner is a killable worker thread (src/node/worker-codec-runner.ts),
 * elsewhere QuickJS on the calling thread (in-process-runner.ts). `#codec-runner` (package.json
 * "imports") picks the default per runtime.
 */
export interface SandboxLimits {
  /** The budget of one call (decode, encode), not of evaluating the source. */
  timeoutMs: number;
  memoryBytes: number;
  /** The budget of evaluating the codec's source once (parsing, building its tables). */
  evalTimeoutMs: number;
}

/** TTN stops payload formatters after 100 ms; vendor codecs finish in well under 1 ms. */
export const DEFAULT_CODEC_TIMEOUT_MS = 100;
/** Generous for byte-twiddling, small enough that a runaway allocation costs little. */
export const DEFAULT_CODEC_MEMORY_BYTES = 16 * 1024 * 1024;
/**
 * Evaluating a 220 KiB codec with lookup tables takes 40–80 ms in a cold worker (measured, 2-core
 * machine under load); 25× that leaves room for a slow machine and still stops a top-level loop.
 */
export const DEFAULT_CODEC_EVAL_TIMEOUT_MS = 2_000;

/**
 * One call into the codec. `uplink` runs decodeUplink and, when the codec has one, normalizeUplink
 * on its data (or the legacy Decoder/Decode); `encodeDownlink` runs encodeDownlink and, when the codec
 * has one, decodeDownlink on the bytes it made (or the legacy Encoder/Encode); `decodeDownlink` alone.
 */
export type CodecEntry = 'uplink' | 'encodeDownlink' | 'decodeDownlink';

/** Why a call failed in a way that makes the codec's context untrustworthy (it is re-created). */
export type SandboxFault = 'time' | 'memory' | 'sandbox';

export type CodecCallOutcome =
  /** `json`: what the sandbox's driver returned, `{ style, result, normalized?, decoded? }` as JSON. */
  | { ok: true; json: string; logs: CodecLogLine[] }
  | { ok: false; error: string; logs: CodecLogLine[]; fault?: SandboxFault };

export interface CodecRunner {
  /** Never rejects: a codec that throws, loops or cannot load is an outcome. */
  call(request: { entry: CodecEntry; inputJson: string }): Promise<CodecCallOutcome>;
  /**
   * Starts loading the codec now (its thread, evaluating its source), so the first call does not wait;
   * settles when loaded or failed (the failure is the next call's outcome). Never rejects.
   */
  warm(): Promise<void>;
  /** Lets calls already made finish, then frees the codec; later calls fail. */
  close(): Promise<void>;
}

export type CodecRunnerFactory = (options: { source: string; limits: SandboxLimits }) => CodecRunner;

/** console lines one call may leave (the rest are counted, not kept): a codec cannot flood the log. */
export const MAX_CONSOLE_LINES_PER_CALL = 16;
export const MAX_CONSOLE_LINE_CHARS = 512;

/** Host-side re-check of what the sandbox says its console printed (the codec runs in that sandbox). */
export function boundLogs(value: unknown): CodecLogLine[] {
  if (!Array.isArray(value)) return [];
  const lines: CodecLogLine[] = [];
  for (const item of value.slice(0, MAX_CONSOLE_LINES_PER_CALL + 1)) {
    const { level, message } = (item ?? {}) as { level?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(message);
    lines.push({
      level: level === 'warn' || level === 'error' ? level : 'info',
      message:
        text.length > MAX_CONSOLE_LINE_CHARS + 32
          ? `${text.slice(0, MAX_CONSOLE_LINE_CHARS)}… (${text.length} characters)`
          : text,
    });
  }
  return lines;
}
