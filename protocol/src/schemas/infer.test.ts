import { describe, expect, it } from 'vitest';
import { HexEdgeError } from '../errors.ts';
import { inferRequestSchema } from './infer.ts';
import { parseWith } from './zod-errors.ts';

const input = { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] };

describe('inferRequestSchema', () => {
  it('takes a coordinate pair or an H3 cell as the location', () => {
    expect(parseWith(inferRequestSchema, { model: 'm', location: { lat: 1, lng: 2 }, inputs: [input] }, { what: 'r' }).location).toEqual({ lat: 1, lng: 2 });
    expect(parseWith(inferRequestSchema, { model: 'm', location: { cell: '871faeaa9ffffff' }, inputs: [input] }, { what: 'r' }).location).toEqual({
      cell: '871faeaa9ffffff',
    });
  });

  it('names the offending field in the error', () => {
    const bad = (value: unknown) => {
      try {
        parseWith(inferRequestSchema, value, { what: 'infer request' });
      } catch (err) {
        return err as HexEdgeError;
      }
      throw new Error('accepted a bad request');
    };
    expect(bad({ location: { lat: 1, lng: 2 }, inputs: [input] }).message).toMatch(/^infer request: model:/);
    expect(bad({ model: 'm', location: { lat: 1, lng: 2 }, inputs: [] }).details).toEqual({ field: 'inputs' });
    expect(bad({ model: 'm', location: { lat: 1, lng: 2 }, inputs: [{ ...input, datatype: 'FP99' }] }).details).toEqual({
      field: 'inputs.0.datatype',
    });
    expect(bad({ model: 'm', location: { lat: '1', lng: 2 }, inputs: [input] }).code).toBe('INVALID_REQUEST');
  });

  it('bounds sizes: model name, tensor count', () => {
    expect(() => parseWith(inferRequestSchema, { model: 'm'.repeat(129), location: { lat: 0, lng: 0 }, inputs: [input] }, { what: 'r' })).toThrow(/model/);
    const many = Array.from({ length: 65 }, (_, i) => ({ ...input, name: `x${i}` }));
    expect(() => parseWith(inferRequestSchema, { model: 'm', location: { lat: 0, lng: 0 }, inputs: many }, { what: 'r' })).toThrow(/inputs/);
  });
});
