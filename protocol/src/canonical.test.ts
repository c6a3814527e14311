import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson } from './canonical.ts';

describe('canonicalJson', () => {
  it('sorts keys recursively and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true }, u: undefined })).toBe(
      '{"a":{"c":true,"d":[1,"x",null]},"b":1}',
    );
  });
  it('refuses non-finite numbers, which JSON cannot carry', () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/non-finite/);
  });
});

describe('canonicalJson, rewritten for speed, gives the bytes of the reference form', () => {
  // The reference: the form signatures were made over before the rewrite.
  const reference = (value: unknown): string => {
    if (value === null || typeof value === 'boolean' || typeof value === 'string')
      return JSON.stringify(value);
    if (typeof value === 'number') return JSON.stringify(value);
    if (Array.isArray(value)) return `[${value.map((v) => reference(v === undefined ? null : v)).join(',')}]`;
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
  };
  it('for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => canonicalJson(value) === reference(value)),
      { numRuns: 2000 },
    );
  });
  it('for objects of many keys (both sort paths), integer-like keys and any finite number', () => {
    const numbers = fc.double({ noNaN: true, noDefaultInfinity: true });
    const keys = fc.oneof(fc.string(), fc.nat().map(String), fc.constantFrom('nodeId', 'body', 'v'));
    fc.assert(
      fc.property(fc.dictionary(keys, fc.oneof(numbers, fc.string()), { maxKeys: 40 }), (value) => {
        return canonicalJson(value) === reference(value);
      }),
      { numRuns: 1000 },
    );
  });
  it('for keys that sort differently by code unit and by code point, and for lone surrogates', () => {
    const value = { '\uffff': 1, '\ud83d\ude00': 2, é: [undefined, -0, 1e21, 5e-7], '\ud800': 'x\udc00' };
    expect(canonicalJson(value)).toBe(reference(value));
  });
});
