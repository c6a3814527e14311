import type { CodecSpec, Encoding, Profile } from '../registry/profile-schema.ts';
import { binarySchemaCodec } from './binary-schema.ts';
import type { Codec } from './codec.ts';
import type { CodecRunnerFactory } from './codec-runner.ts';
import { JsCodec } from './js-codec.ts';
import { lppCodec } from './lpp.ts';

/** `runner`: where JS codecs run (default: a worker thread per codec on Node, in process elsewhere). */
export function makeCodec(
  spec: CodecSpec | Extract<Encoding, { kind: 'js' }>,
  options: { runner?: CodecRunnerFactory } = {},
): Codec {
  switch (spec.kind) {
    case 'lpp':
      return lppCodec;
    case 'binary':
      return binarySchemaCodec(spec.fields);
    case 'js':
      return new JsCodec({
        source: spec.source,
        ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}),
        ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
        ...(options.runner ? { runner: options.runner } : {}),
      });
  }
}

/** A profile's codecs: its payload codec, and the encoders of its downlink `encoding` and `fallback`. */
export interface ProfileCodecs {
  codec: Codec;
  /** For `codec` the profile's codec, for `js` its own encoder; absent for the built-in encodings. */
  encoders: { encoding?: Codec; fallback?: Codec };
}

/** Built once per profile: a JS codec's source is evaluated once, not per message. */
export function makeProfileCodecs(
  profile: Profile,
  options: { runner?: CodecRunnerFactory } = {},
): ProfileCodecs {
  const codec = makeCodec(profile.codec, options);
  const encoderFor = (encoding: Encoding | { kind: 'results-only' } | undefined): Codec | undefined =>
    encoding?.kind === 'codec' ? codec : encoding?.kind === 'js' ? makeCodec(encoding, options) : undefined;
  const encoding = encoderFor(profile.downlink?.encoding);
  const fallback = encoderFor(profile.downlink?.fallback);
  return { codec, encoders: { ...(encoding ? { encoding } : {}), ...(fallback ? { fallback } : {}) } };
}

const eachCodec = (codecs: ProfileCodecs) =>
  [...new Set([codecs.codec, codecs.encoders.encoding, codecs.encoders.fallback])].filter(
    (c) => c !== undefined,
  );

/** Starts every JS codec of a profile now (threads, evaluating sources), ahead of the first uplink. */
export function warmProfileCodecs(codecs: ProfileCodecs): void {
  for (const c of eachCodec(codecs)) void c.warm?.();
}

/** Frees every codec of a profile (each once: `codec` may double as its encoder). */
export async function closeProfileCodecs(codecs: ProfileCodecs): Promise<void> {
  await Promise.all(eachCodec(codecs).map((c) => c.close?.()));
}
