import { describe, expect, it } from 'vitest';
import { decodeExchange, decodeExchangeAnswer } from './exchange-decode.ts';
import {
  referenceDecodeExchange,
  referenceDecodeExchangeAnswer,
  referenceEncodeExchange,
  referenceEncodeExchangeAnswer,
} from './exchange-reference.fixture.ts';
import {
  encodeExchange,
  encodeExchangeAnswer,
  MAX_EXCHANGE_PART_BODY_BYTES,
  MAX_EXCHANGE_PART_HEAD_BYTES,
  MAX_EXCHANGE_PART_HEADERS,
} from './exchange.ts';

/** What a call gives: its value, or the error's class, code and message. */
function outcome(f: () => unknown): unknown {
  try {
    return { value: f() };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { error: e.constructor.name, code: e.code, message: e.message };
  }
}

let seed = 19;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;

/** Header names and values, ordinary and hostile (prototype keys, unicode, controls, sizes at the limits). */
const NAMES = [
  'content-type',
  'inference-header-content-length',
  'x-hexedge-forward-mac',
  'traceparent',
  '__proto__',
  'constructor',
  'toString',
  'Upper-Case',
  'bad name',
  'ünicode',
  '',
  'a'.repeat(255),
  'a'.repeat(256),
];
const VALUES = [
  'application/json',
  '123',
  '',
  'v1',
  'with\ttab and spaces',
  'line\nbreak',
  'ünicode',
  '\u0000',
  'x'.repeat(MAX_EXCHANGE_PART_HEAD_BYTES),
  'y'.repeat(4000),
];
const PATHS = ['/v2/models/m/versions/1/infer', '', '/ü', '/a b', '/\u007f', '/p'.repeat(9000)];

function randomHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const count = random(10) === 0 ? MAX_EXCHANGE_PART_HEADERS + random(3) : random(6);
  for (let h = 0; h < count; h++) {
    const name = random(4) === 0 ? pick(NAMES) : `x-h${h}`;
    // Own properties, even for prototype names ("__proto__" as a key, not the setter).
    Object.defineProperty(headers, name, {
      value: random(3) === 0 ? pick(VALUES) : `v${h}`,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return headers;
}

function randomBody(): string | Uint8Array {
  switch (random(5)) {
    case 0:
      return '{"id":"ü"}';
    case 1:
      return new Uint8Array(MAX_EXCHANGE_PART_BODY_BYTES + random(2));
    default:
      return Uint8Array.from({ length: random(40) }, () => random(256));
  }
}

describe('exchange codec against its reference (the codec before its allocation cuts)', () => {
  it('encodes the same bytes, or throws the same error, for ordinary and hostile parts', () => {
    for (let n = 0; n < 3000; n++) {
      const count = random(20) === 0 ? 0 : 1 + random(4);
      const parts = Array.from({ length: count }, () => ({
        path: random(3) === 0 ? pick(PATHS) : PATHS[0]!,
        headers: randomHeaders(),
        body: randomBody(),
      }));
      expect(outcome(() => encodeExchange(parts))).toEqual(outcome(() => referenceEncodeExchange(parts)));
      const answers = parts.map((p, i) => ({
        status: random(10) === 0 ? pick([99, 600, 200.5, -0, Number.NaN, 0x1_00c8]) : 200 + i,
        headers: p.headers,
        body: p.body,
      }));
      expect(outcome(() => encodeExchangeAnswer(answers))).toEqual(
        outcome(() => referenceEncodeExchangeAnswer(answers)),
      );
    }
  });

  it('decodes the same parts, or refuses with the same error, for valid, mutated and cut bytes', () => {
    const samples: Uint8Array[] = [];
    for (let n = 0; n < 40; n++) {
      const parts = Array.from({ length: 1 + random(3) }, (_, i) => ({
        path: PATHS[0]!,
        headers: { 'content-type': 'application/json', [`x-h${i}`]: `v${n}`, __proto__: 'p' },
        body: Uint8Array.from({ length: random(12) }, () => random(256)),
      }));
      samples.push(encodeExchange(parts));
      samples.push(encodeExchangeAnswer(parts.map((p) => ({ ...p, status: 200 }))));
    }
    for (let n = 0; n < 6000; n++) {
      const bytes = Uint8Array.from(pick(samples));
      for (let k = random(4); k > 0; k--) bytes[random(bytes.length)] = random(2) ? random(256) : 0xff;
      const cut = random(3) === 0 ? bytes.subarray(0, random(bytes.length + 1)) : bytes;
      expect(outcome(() => decodeExchange(cut))).toEqual(outcome(() => referenceDecodeExchange(cut)));
      const expected = 1 + random(3);
      expect(outcome(() => decodeExchangeAnswer(cut, expected))).toEqual(
        outcome(() => referenceDecodeExchangeAnswer(cut, expected)),
      );
    }
  });

  it('reads a header named __proto__ as a header, on both sides', () => {
    const headers = JSON.parse('{"__proto__":"x","content-type":"a"}') as Record<string, string>;
    const parts = decodeExchange(encodeExchange([{ path: '/p', headers, body: new Uint8Array(0) }]));
    expect(Object.keys(parts[0]!.headers)).toEqual(['__proto__', 'content-type']);
    expect(parts[0]!.headers['__proto__']).toBe('x');
  });
});
