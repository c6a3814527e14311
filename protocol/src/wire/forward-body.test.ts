import { describe, expect, it } from 'vitest';
import { signingInput } from '../signing.ts';
import { forwardSigningInput, type ForwardBody } from './forward-body.ts';

/** What a call gives: its bytes as text, or the error's class and message. */
function outcome(f: () => Uint8Array): unknown {
  try {
    return { text: new TextDecoder().decode(f()) };
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

const BODY: ForwardBody = {
  nodeId: 'gw',
  targetNodeId: 'node',
  route: 'infer',
  modelName: 'comfort-index',
  modelVersion: '1.0.0',
  bodyDigest: 'ab'.repeat(32),
  issuedAtMs: 1_750_000_000_000,
};

/** Strings a caller could put in a field: quotes, escapes, unicode, lone surrogates, prototype names. */
const STRINGS = [
  '',
  'a"b',
  'back\\slash',
  'line\nbreak',
  '\u0000\u001f',
  'é😀',
  '\ud800',
  '\udfff x',
  '__proto__',
];
/** Values of other types (a caller's cast): these go through signingInput, bytes or error alike. */
const OTHERS: unknown[] = [undefined, null, 1, -0, NaN, Infinity, true, {}, [], { a: 1 }, 10n];
const NUMBERS: unknown[] = [
  0,
  -0,
  1,
  -1,
  1e21,
  1.5e-7,
  Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  NaN,
  -Infinity,
  '1',
  null,
];

describe('forwardSigningInput', () => {
  it("gives signingInput('forward', body)'s bytes for every field value, or the same error", () => {
    const fields = Object.keys(BODY) as (keyof ForwardBody)[];
    const cases: ForwardBody[] = [BODY];
    for (const field of fields) {
      const values = field === 'issuedAtMs' ? NUMBERS : [...STRINGS, ...OTHERS];
      for (const value of values) cases.push({ ...BODY, [field]: value } as unknown as ForwardBody);
    }
    for (const body of cases)
      expect(
        outcome(() => forwardSigningInput(body)),
        JSON.stringify(body, (_, v: unknown) => String(v)),
      ).toEqual(outcome(() => signingInput('forward', body)));
  });

  it('writes the canonical form: keys sorted, no whitespace, the kind tag first', () => {
    expect(new TextDecoder().decode(forwardSigningInput(BODY))).toBe(
      `hexedge/v1/forward\n{"bodyDigest":"${'ab'.repeat(32)}","issuedAtMs":1750000000000,"modelName":"comfort-index","modelVersion":"1.0.0","nodeId":"gw","route":"infer","targetNodeId":"node"}`,
    );
  });
});
