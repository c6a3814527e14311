import { inferRequestSchema, parseWith } from '@hexedge/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInferRequest, readInferRequest } from './request-shape.ts';

/** What parsing a body gives: the request, or the error's code and message. */
const outcome = (parse: () => unknown) => {
  try {
    return { ok: parse() };
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
};

const odd = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
);
const name = fc.oneof(fc.constantFrom('x', 'readings', '', 'n'.repeat(257)), odd);
const parameters = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(
    fc.constantFrom('a', 'binary_data', '__proto__'),
    fc.oneof(fc.integer(), fc.boolean(), fc.constant({ b: [1] })),
    { maxKeys: 2 },
  ),
  odd,
);
const input = fc.record(
  {
    name,
    datatype: fc.oneof(fc.constantFrom('FP32', 'INT64', 'BYTES', 'FP99', 'toString'), odd),
    shape: fc.oneof(
      fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constant(2 ** 60), fc.double()), {
        maxLength: 3,
      }),
      fc.constant(Array(17).fill(1)),
      odd,
    ),
    data: fc.oneof(
      fc.array(fc.oneof(fc.double(), fc.string(), fc.array(fc.integer(), { maxLength: 2 })), {
        maxLength: 4,
      }),
      odd,
    ),
    parameters,
    extra: odd,
  },
  { requiredKeys: ['name', 'datatype', 'shape', 'data'] },
);
const request = fc.record(
  {
    model: fc.oneof(fc.constantFrom('comfort-index', '', 'm'.repeat(129)), odd),
    version: fc.oneof(fc.constantFrom('1', '', 'v'.repeat(65)), odd),
    location: fc.oneof(
      fc.record(
        {
          lat: fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), odd),
          lng: fc.oneof(fc.double({ min: -180, max: 180, noNaN: true }), odd),
        },
        { requiredKeys: [] },
      ),
      fc.record({ lat: fc.double({ noNaN: true }), lng: fc.double({ noNaN: true }), extra: odd }),
      fc.record({ cell: fc.oneof(fc.constantFrom('871faeaa9ffffff', 'c'.repeat(33)), odd) }),
      odd,
    ),
    inputs: fc.oneof(
      fc.array(input, { maxLength: 3 }),
      fc.constant(Array(65).fill({ name: 'x', datatype: 'FP32', shape: [1], data: [1] })),
      odd,
    ),
    input: fc.oneof(fc.jsonValue({ maxDepth: 3 }), odd),
    outputs: fc.oneof(
      fc.array(fc.record({ name, parameters }, { requiredKeys: ['name'] }), { maxLength: 2 }),
      odd,
    ),
    id: fc.oneof(fc.constantFrom('req-1', 'has space', '', 'i'.repeat(129)), odd),
    policy: fc.oneof(fc.record({ hedge: fc.boolean() }), odd),
    unknown: odd,
  },
  { requiredKeys: [] },
);
/** Mostly-valid requests, so the fast path is exercised as much as the fallback. */
const valid = fc.record(
  {
    model: fc.constant('comfort-index'),
    location: fc.record({
      lat: fc.double({ min: -90, max: 90, noNaN: true }),
      lng: fc.double({ min: -180, max: 180, noNaN: true }),
    }),
    inputs: fc.array(
      fc.record({
        name: fc.constantFrom('readings', 'x'),
        datatype: fc.constantFrom('FP32', 'INT64'),
        shape: fc.constant([1, 3]),
        data: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 3, maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    id: fc.constantFrom('req-1', 'a'),
    version: fc.constant('1'),
    outputs: fc.constant([{ name: 'probabilities' }]),
    unknown: odd,
  },
  { requiredKeys: ['model', 'location', 'inputs'] },
);

describe('the infer request read by hand', () => {
  it('gives exactly what inferRequestSchema gives: the same request, or the same error word for word', () => {
    const seen = { fast: 0, fallback: 0 };
    fc.assert(
      fc.property(fc.oneof(request, valid, valid), (body) => {
        const fast = readInferRequest(body);
        if (fast) seen.fast++;
        else seen.fallback++;
        const schema = outcome(() => parseWith(inferRequestSchema, body, { what: 'infer request' }));
        if (fast) expect(schema).toEqual({ ok: fast });
        expect(outcome(() => parseInferRequest(body))).toEqual(schema);
      }),
      { numRuns: 4000 },
    );
    expect(seen.fast).toBeGreaterThan(500);
    expect(seen.fallback).toBeGreaterThan(500);
  });

  it('keeps the schema’s messages for the usual mistakes', () => {
    const msg = (body: unknown) => outcome(() => parseInferRequest(body));
    expect(msg({ location: { lat: 1, lng: 2 }, inputs: [] })).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(/^infer request: model:/),
    });
    expect(msg({ model: 'm', location: { lat: 0, lng: 0 } })).toMatchObject({
      message:
        'infer request: inputs: give either inputs (OIP tensors) or input (a domain value), not both or neither',
    });
  });
});
