import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ERROR_CODES } from '../src/index.ts';

/*
 * Shared pieces of every package's fuzz tests, exported as `@hexedge/protocol/testing` (test code
 * only: it reads corpus files with node:fs and uses fast-check, a dev dependency). Bodies are built as values, then written as JSON text by `toJsonText`, which
 * lets a leaf be raw text — 100 000 nested brackets or a `__proto__` key that a JS literal would
 * turn into a prototype.
 */

/** A leaf written as it is into the JSON text. */
export class Raw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export function toJsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A value as text for an assertion message: cut short, and never itself a stack overflow. */
export function shown(value: unknown, max = 300): string {
  try {
    return (typeof value === 'string' ? value : toJsonText(value)).slice(0, max);
  } catch {
    return '(too deeply nested to show)';
  }
}

export const deepArrayText = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
export const deepObjectText = (depth: number, inner = '1') => '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
/** Keys that reach a prototype when code copies them with `obj[key] = …`. */
export const PROTO_TEXT = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true}}';

export const NASTY_STRINGS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'NaN', 'Infinity', '-Infinity', '1e309', '-0', '0x1F', '', ' ', '\u0000',
  '\ud800', '\u202e', 'é', '𝕳𝖊𝖝', '😀'.repeat(50), 'null', 'undefined', 'true', '[]', '{}', '../../../etc/passwd', '%00', '${7*7}', '$share/x', '#', '+', '/', 'a'.repeat(300),
];
export const NASTY_NUMBERS = [0, -0, 1, -1, 0.5, 1e308, -1e308, 1.7976931348623157e308, 5e-324, 2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 31, 2 ** 32, 2 ** 64, 1e21, 123456789.123456789];

export const nastyString = fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
export const nastyNumber = fc.oneof(fc.constantFrom(...NASTY_NUMBERS), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
export const nastyLeaf: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.constantFrom(null, true, false),
  fc.constantFrom(new Raw(deepArrayText(20_000)), new Raw(deepObjectText(20_000)), new Raw(PROTO_TEXT), new Raw('[]'), new Raw('{}')),
);
/** Any JSON value, with nasty leaves mixed in. */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, nastyLeaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(nastyString, tie('v'), { maxKeys: 4 })),
})).v;
/** `value`, or something nasty in its place (one in `oneIn`). */
export const maybeNasty = <T>(value: fc.Arbitrary<T>, oneIn = 4): fc.Arbitrary<unknown> => fc.oneof({ weight: oneIn - 1, arbitrary: value }, { weight: 1, arbitrary: nastyJson });

/** Bounded runs: a count, and a time after which fast-check stops (what ran passed). */
export const bounded = (numRuns: number, timeMs: number): fc.Parameters<unknown> => ({ numRuns, interruptAfterTimeLimit: timeMs, markInterruptAsFailure: false });

/** Fails (instead of hanging the suite) when one call takes longer than `ms`. */
export async function withinMs<T>(ms: number, what: string, run: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hang)`)), ms)));
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Nothing the inputs carried reached Object.prototype. */
export function assertNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')) throw new Error('Object.prototype was polluted');
}

export const isErrorCode = (code: unknown): boolean => typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);

/** One regression corpus case: raw text (with an optional deep-nesting expansion), or a JSON value. */
export interface CorpusCase {
  name: string;
  text?: string;
  json?: unknown;
  /** Replaces `token` in `text` by `depth` × `open` + `inner` + `depth` × `close`. */
  expand?: { token: string; open: string; close: string; inner: string; depth: number };
  [extra: string]: unknown;
}

/** A package's corpus file: `loadCorpus(new URL('./corpus/x.json', import.meta.url))` from its test. */
export function loadCorpus(file: URL): CorpusCase[] {
  const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: CorpusCase[] };
  return cases;
}

export function corpusText(c: CorpusCase): string {
  let text = c.text ?? JSON.stringify(c.json);
  if (c.expand) {
    const { token, open, close, inner, depth } = c.expand;
    text = text.replace(token, open.repeat(depth) + inner + close.repeat(depth));
  }
  return text;
}
