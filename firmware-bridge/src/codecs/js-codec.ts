import { codecFail, isPlainObject, type Codec, type CodecContext, type CodecResult, type DecodedPayload } from './codec.ts';
import { DEFAULT_CODEC_MEMORY_BYTES, DEFAULT_CODEC_TIMEOUT_MS, runInSandbox, type SandboxLimits } from './js-sandbox.ts';

/**
 * TTN device-repository codecs (`decodeUplink({ bytes, fPort, recvTime })` → `{ data, errors,
 * warnings }`, `encodeDownlink({ data, fPort })` → `{ bytes, fPort }`), ChirpStack v4's same-named
 * functions, and the legacy TTN v2 `Decoder(bytes, port)` / `Encoder(object, port)` and ChirpStack v3
 * `Decode(fPort, bytes, variables)` / `Encode(fPort, obj, variables)`.
 */
const DECODE_DRIVER = `(function () {
  var input = JSON.parse(__INPUT__);
  var r;
  if (typeof decodeUplink === 'function') {
    r = decodeUplink({ bytes: input.bytes, fPort: input.fPort, recvTime: new Date(input.recvTimeMs), variables: {} });
    return JSON.stringify({ style: 'ttn', result: r === undefined ? null : r });
  }
  if (typeof Decoder === 'function') return JSON.stringify({ style: 'legacy', result: Decoder(input.bytes, input.fPort) });
  if (typeof Decode === 'function') return JSON.stringify({ style: 'legacy', result: Decode(input.fPort, input.bytes, {}) });
  return JSON.stringify({ style: 'missing' });
})()`;

const ENCODE_DRIVER = `(function () {
  var input = JSON.parse(__INPUT__);
  var r;
  if (typeof encodeDownlink === 'function') {
    r = encodeDownlink({ data: input.data, fPort: input.fPort, variables: {} });
    return JSON.stringify({ style: 'ttn', result: r === undefined ? null : r });
  }
  if (typeof Encoder === 'function') return JSON.stringify({ style: 'legacy', result: Encoder(input.data, input.fPort) });
  if (typeof Encode === 'function') return JSON.stringify({ style: 'legacy', result: Encode(input.fPort, input.data, {}) });
  return JSON.stringify({ style: 'missing' });
})()`;

function driverWith(template: string, input: unknown): string {
  // The input travels as a JSON string literal: nothing of the host is reachable from the sandbox.
  return template.replace('__INPUT__', JSON.stringify(JSON.stringify(input)));
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) : []);

function isByteArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);
}

export class JsCodec implements Codec {
  readonly #source: string;
  readonly #limits: SandboxLimits;

  constructor(options: { source: string; timeoutMs?: number; memoryBytes?: number }) {
    this.#source = options.source;
    this.#limits = {
      timeoutMs: options.timeoutMs ?? DEFAULT_CODEC_TIMEOUT_MS,
      memoryBytes: options.memoryBytes ?? DEFAULT_CODEC_MEMORY_BYTES,
    };
  }

  async decode(bytes: Uint8Array, ctx: CodecContext): Promise<CodecResult<DecodedPayload>> {
    const input = { bytes: Array.from(bytes), fPort: ctx.fPort, recvTimeMs: ctx.recvTimeMs };
    const outcome = await runInSandbox({ source: this.#source, driver: driverWith(DECODE_DRIVER, input), limits: this.#limits });
    if (!outcome.ok) return codecFail(`JS codec: ${outcome.error}`);
    const { style, result } = outcome.value as { style: string; result: unknown };
    if (style === 'missing') return codecFail('JS codec defines no decodeUplink, Decoder or Decode function');
    if (style === 'legacy') {
      return isPlainObject(result) ? { data: result, errors: [], warnings: [] } : codecFail(`JS codec Decoder returned ${JSON.stringify(result)}, not an object`);
    }
    if (!isPlainObject(result)) return codecFail(`JS codec decodeUplink returned ${JSON.stringify(result)}, not { data, errors, warnings }`);
    const errors = strings(result.errors);
    const warnings = strings(result.warnings);
    if (errors.length > 0) return { errors: errors.map((e) => `JS codec: ${e}`), warnings };
    if (!isPlainObject(result.data)) return codecFail(`JS codec decodeUplink returned data ${JSON.stringify(result.data)}, not an object`, warnings);
    return { data: result.data, errors: [], warnings };
  }

  async encode(value: unknown, ctx: CodecContext): Promise<CodecResult<Uint8Array>> {
    const outcome = await runInSandbox({
      source: this.#source,
      driver: driverWith(ENCODE_DRIVER, { data: value, fPort: ctx.fPort }),
      limits: this.#limits,
    });
    if (!outcome.ok) return codecFail(`JS codec: ${outcome.error}`);
    const { style, result } = outcome.value as { style: string; result: unknown };
    if (style === 'missing') return codecFail('JS codec defines no encodeDownlink, Encoder or Encode function');
    const bytes = style === 'legacy' ? result : isPlainObject(result) ? result.bytes : undefined;
    const errors = style === 'ttn' && isPlainObject(result) ? strings(result.errors) : [];
    const warnings = style === 'ttn' && isPlainObject(result) ? strings(result.warnings) : [];
    if (errors.length > 0) return { errors: errors.map((e) => `JS codec: ${e}`), warnings };
    if (!isByteArray(bytes)) return codecFail(`JS codec encoder returned bytes ${JSON.stringify(bytes)}, not an array of integers 0–255`, warnings);
    return { data: Uint8Array.from(bytes), errors: [], warnings };
  }
}
