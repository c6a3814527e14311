import { defaultCodecRunner } from '#codec-runner';
import type {
  Codec,
  CodecContext,
  CodecResult,
  DecodedPayload,
  DecodeResult,
  EncodeResult,
} from './codec.ts';
import {
  DEFAULT_CODEC_EVAL_TIMEOUT_MS,
  DEFAULT_CODEC_MEMORY_BYTES,
  DEFAULT_CODEC_TIMEOUT_MS,
  type CodecCallOutcome,
  type CodecRunner,
  type CodecRunnerFactory,
} from './codec-runner.ts';
import { downlinkDecodeResult, encodeResult, uplinkResult } from './js-codec-results.ts';

/**
 * TTN device-repository codecs — `decodeUplink({ bytes, fPort, recvTime })` → `{ data, errors,
 * warnings }`, `normalizeUplink({ data })` → `{ data: measurement | measurement[] }`,
 * `encodeDownlink({ data })` → `{ bytes, fPort }`, `decodeDownlink({ bytes, fPort })` → `{ data }` —
 * ChirpStack v4's same-named functions, and the legacy TTN v2 `Decoder(bytes, port)` /
 * `Encoder(object, port)` and ChirpStack v3 `Decode(fPort, bytes, variables)` / `Encode(fPort, obj, variables)`.
 * The source is evaluated once, in the runner (a worker thread on Node), and kept until `close()`.
 */
export interface JsCodecOptions {
  source: string;
  timeoutMs?: number;
  memoryBytes?: number;
  evalTimeoutMs?: number;
  /** Where the codec runs; by default a worker thread on Node and in process elsewhere. */
  runner?: CodecRunnerFactory;
}

function withLogs<R extends CodecResult<unknown>>(result: R, outcome: CodecCallOutcome): R {
  return outcome.logs.length > 0 ? { ...result, logs: outcome.logs } : result;
}

function parseOutcome(outcome: CodecCallOutcome): { parsed: Record<string, unknown> } | { error: string } {
  if (!outcome.ok) return { error: `JS codec: ${outcome.error}` };
  try {
    return { parsed: JSON.parse(outcome.json) as Record<string, unknown> };
  } catch (err) {
    return { error: `JS codec: its output is not JSON (${(err as Error).message})` };
  }
}

export class JsCodec implements Codec {
  readonly #runner: CodecRunner;

  constructor(options: JsCodecOptions) {
    const limits = {
      timeoutMs: options.timeoutMs ?? DEFAULT_CODEC_TIMEOUT_MS,
      memoryBytes: options.memoryBytes ?? DEFAULT_CODEC_MEMORY_BYTES,
      evalTimeoutMs: options.evalTimeoutMs ?? DEFAULT_CODEC_EVAL_TIMEOUT_MS,
    };
    this.#runner = (options.runner ?? defaultCodecRunner)({ source: options.source, limits });
  }

  /** decodeUplink, then normalizeUplink on its data when the codec has one (one call, one budget). */
  async decode(bytes: Uint8Array, ctx: CodecContext): Promise<DecodeResult> {
    const outcome = await this.#runner.call({
      entry: 'uplink',
      inputJson: JSON.stringify({ bytes: Array.from(bytes), fPort: ctx.fPort, recvTimeMs: ctx.recvTimeMs }),
    });
    const read = parseOutcome(outcome);
    return withLogs(
      'error' in read ? { errors: [read.error], warnings: [] } : uplinkResult(read.parsed),
      outcome,
    );
  }

  /** encodeDownlink (its fPort checked, 1–223), then decodeDownlink on the bytes when the codec has one. */
  async encode(value: unknown, ctx: CodecContext): Promise<EncodeResult> {
    const outcome = await this.#runner.call({
      entry: 'encodeDownlink',
      inputJson: JSON.stringify({ data: value, fPort: ctx.fPort }),
    });
    const read = parseOutcome(outcome);
    return withLogs(
      'error' in read ? { errors: [read.error], warnings: [] } : encodeResult(read.parsed),
      outcome,
    );
  }

  /** decodeDownlink alone: what a downlink's bytes mean to this device. */
  async decodeDownlink(
    bytes: Uint8Array,
    ctx: Pick<CodecContext, 'fPort'>,
  ): Promise<CodecResult<DecodedPayload>> {
    const outcome = await this.#runner.call({
      entry: 'decodeDownlink',
      inputJson: JSON.stringify({ bytes: Array.from(bytes), fPort: ctx.fPort }),
    });
    const read = parseOutcome(outcome);
    return withLogs(
      'error' in read ? { errors: [read.error], warnings: [] } : downlinkDecodeResult(read.parsed),
      outcome,
    );
  }

  /** Evaluates the source now (in its worker on Node), so the first uplink does not wait for it. */
  warm(): Promise<void> {
    return this.#runner.warm();
  }

  close(): Promise<void> {
    return this.#runner.close();
  }
}
