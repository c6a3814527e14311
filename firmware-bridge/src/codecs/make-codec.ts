import type { CodecSpec } from '../registry/profile-schema.ts';
import { binarySchemaCodec } from './binary-schema.ts';
import type { Codec } from './codec.ts';
import { JsCodec } from './js-codec.ts';
import { lppCodec } from './lpp.ts';

export function makeCodec(spec: CodecSpec): Codec {
  switch (spec.kind) {
    case 'lpp':
      return lppCodec;
    case 'binary':
      return binarySchemaCodec(spec.fields);
    case 'js':
      return new JsCodec({ source: spec.source, ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}), ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}) });
  }
}
