import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.ts';
import { canonicalUtf8View } from './canonical-utf8.ts';

const encoder = new TextEncoder();
/** The spec: the prefix and canonicalJson's text, encoded as UTF-8. */
const expected = (prefix: string, value: unknown) => encoder.encode(prefix + canonicalJson(value));
const PREFIX = '\u0000hexedge/v1/receipt\n';

const ADVERSARIAL: unknown[] = [
  '',
  'plain ascii',
  '"quoted" \\ back\\slash /',
  '\u0000\u0001\u001f\u007f\u0080\u00ff',
  '\b\f\n\r\t',
  'ü ß é 中文 😀 \u2028 \u2029',
  '\ud800',
  '\udfff',
  'lone \ud800 high then \udc00 low, pair \ud83d\ude00, reversed \ude00\ud83d',
  0,
  -0,
  1,
  -1,
  0.1,
  -0.000001,
  1e-7,
  5e-324,
  1e21,
  1e300,
  -1e21,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  2 ** 60,
  Number.MAX_VALUE,
  123456789.123,
  true,
  false,
  null,
  [],
  {},
  [undefined, null, 1, [[]], {}],
  [1, , 3],
  { b: 1, a: 2, A: 3, _: 4, '': 5, '10': 6, '2': 7, '-1': 8, '1.5': 9 },
  { z: undefined, y: null, x: [undefined] },
  { é: 1, e: 2, f: 3, '😀': 4, '\uffff': 5, '\ud800': 6, '\u2028': 7 },
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1, "toString": "x", "hasOwnProperty": []}'),
  Object.assign(Object.create(null) as object, { b: 1, a: [2] }),
  Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${(i * 7919) % 40}`, i])),
  { nested: { deeper: { deepest: [{ b: 'x', a: ['\ud800', -0, 1e-9] }] } } },
  new Date(0),
  new Map([[1, 2]]),
  new Uint8Array([3, 1, 2]),
  Object.assign([1, 2], { extra: 'ignored' }),
];

describe('canonicalUtf8View: canonicalBytes written into one buffer', () => {
  it('gives canonicalJson’s UTF-8, byte for byte, for adversarial values', () => {
    for (const value of ADVERSARIAL) {
      expect([...canonicalUtf8View(PREFIX, value)]).toEqual([...expected(PREFIX, value)]);
      expect([...canonicalUtf8View('', { value, list: [value, value] })]).toEqual([
        ...expected('', { value, list: [value, value] }),
      ]);
    }
  });

  it('agrees on random values (random keys, unicode strings, numbers, nesting)', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const randomString = () =>
      String.fromCharCode(
        ...Array.from({ length: Math.floor(random() * 12) }, () => Math.floor(random() * 0x10000)),
      );
    const randomValue = (depth: number): unknown => {
      const r = random();
      if (depth > 4 || r < 0.2) return randomString();
      if (r < 0.35) return (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
      if (r < 0.45) return Math.floor((random() - 0.5) * 2 ** 53);
      if (r < 0.5) return [true, false, null, undefined, -0][Math.floor(random() * 5)];
      if (r < 0.7) return Array.from({ length: Math.floor(random() * 5) }, () => randomValue(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 6) }, () => [randomString(), randomValue(depth + 1)]),
      );
    };
    for (let i = 0; i < 500; i++) {
      const value = randomValue(0);
      if (value === undefined) continue;
      expect([...canonicalUtf8View(PREFIX, value)]).toEqual([...expected(PREFIX, value)]);
    }
  });

  it('grows past its first buffer for large values and keeps agreeing afterwards', () => {
    const large = { data: Array.from({ length: 20_000 }, (_, i) => i / 7), text: 'é'.repeat(30_000) };
    expect([...canonicalUtf8View(PREFIX, large)]).toEqual([...expected(PREFIX, large)]);
    expect([...canonicalUtf8View(PREFIX, { a: 1 })]).toEqual([...expected(PREFIX, { a: 1 })]);
    // Past the size kept for reuse (1 MiB): written in a buffer of its own, the next call as before.
    const huge = { text: 'x'.repeat(3 << 20), n: 1 };
    expect(Buffer.from(canonicalUtf8View(PREFIX, huge)).equals(Buffer.from(expected(PREFIX, huge)))).toBe(
      true,
    );
    expect([...canonicalUtf8View(PREFIX, { b: [2] })]).toEqual([...expected(PREFIX, { b: [2] })]);
  });

  it('throws as canonicalJson does, and the next call is unaffected', () => {
    for (const bad of [NaN, Infinity, { a: [1, -Infinity] }, () => 1, { f: Symbol('s') }, 10n, undefined]) {
      let message: string | undefined;
      try {
        canonicalJson(bad);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toBeDefined();
      expect(() => canonicalUtf8View(PREFIX, bad)).toThrow(new TypeError(message));
    }
    expect([...canonicalUtf8View(PREFIX, { ok: true })]).toEqual([...expected(PREFIX, { ok: true })]);
  });

  it('writes a value whose getter serializes reentrantly into its own buffer', () => {
    const inner = { b: 'inner' };
    const value = {
      get a() {
        return [...canonicalUtf8View('x', inner)].length;
      },
      c: 'outer',
    };
    expect([...canonicalUtf8View(PREFIX, value)]).toEqual([...expected(PREFIX, value)]);
  });
});
