import { HexEdgeError, oipInferenceRequestSchema, parseWith } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { fastInferenceRequest, parseInferenceRequest } from './oip-request.ts';

/** zod's verdict: the parsed value, or the error parseWith throws (code and message). */
function viaZod(v: unknown): unknown {
  try {
    return { ok: parseWith(oipInferenceRequestSchema, v, { what: 'inference request' }) };
  } catch (err) {
    return { code: (err as HexEdgeError).code, message: (err as Error).message };
  }
}
function viaFast(v: unknown): unknown {
  try {
    return { ok: parseInferenceRequest(v) };
  } catch (err) {
    return { code: (err as HexEdgeError).code, message: (err as Error).message };
  }
}

const input = (o: Record<string, unknown> = {}) => ({
  name: 'x',
  datatype: 'FP32',
  shape: [1, 3],
  data: [1, 2, 3],
  ...o,
});
const many = (n: number) => Array.from({ length: n }, (_, i) => input({ name: `x${i}` }));
const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });

/** Requests as JSON text (what reaches the parser), valid and hostile. */
const CASES: Record<string, string> = {
  plain: JSON.stringify({ inputs: [input()] }),
  'with id, outputs, parameters': JSON.stringify({
    id: 'r-1',
    parameters: { binary_data_output: true },
    inputs: [input({ parameters: { binary_data_size: 12 } })],
    outputs: [{ name: 'p', parameters: { binary_data: true } }, { name: 'q' }],
  }),
  'extra root key': JSON.stringify({ inputs: [input()], extra: 1 }),
  'extra input key': JSON.stringify({ inputs: [input({ extra: [1] })] }),
  'extra output key': JSON.stringify({ inputs: [input()], outputs: [{ name: 'p', x: 1 }] }),
  'no inputs': JSON.stringify({ inputs: [] }),
  '64 inputs': JSON.stringify({ inputs: many(64) }),
  '65 inputs': JSON.stringify({ inputs: many(65) }),
  '65 outputs': JSON.stringify({ inputs: [input()], outputs: many(65).map((i) => ({ name: i.name })) }),
  'inputs not an array': JSON.stringify({ inputs: { 0: input() } }),
  'root an array': JSON.stringify([input()]),
  'root null': 'null',
  'root a number': '5',
  'id 256 chars': JSON.stringify({ id: 'i'.repeat(256), inputs: [input()] }),
  'id 257 chars': JSON.stringify({ id: 'i'.repeat(257), inputs: [input()] }),
  'id a number': JSON.stringify({ id: 7, inputs: [input()] }),
  'id null': JSON.stringify({ id: null, inputs: [input()] }),
  'empty name': JSON.stringify({ inputs: [input({ name: '' })] }),
  'name 256 chars': JSON.stringify({ inputs: [input({ name: 'n'.repeat(256) })] }),
  'name 257 chars': JSON.stringify({ inputs: [input({ name: 'n'.repeat(257) })] }),
  'unicode name and astral chars': JSON.stringify({ inputs: [input({ name: '😀'.repeat(128) })] }),
  'unicode name over 256 code units': JSON.stringify({ inputs: [input({ name: '😀'.repeat(129) })] }),
  'name a number': JSON.stringify({ inputs: [input({ name: 1 })] }),
  'shape 16 dims': JSON.stringify({ inputs: [input({ shape: Array(16).fill(1) })] }),
  'shape 17 dims': JSON.stringify({ inputs: [input({ shape: Array(17).fill(1) })] }),
  'shape -1': JSON.stringify({ inputs: [input({ shape: [-1, 3] })] }),
  'shape -0': '{"inputs":[{"name":"x","datatype":"FP32","shape":[-0,3],"data":[]}]}',
  'shape 1.5': JSON.stringify({ inputs: [input({ shape: [1.5] })] }),
  'shape 2^53': JSON.stringify({ inputs: [input({ shape: [2 ** 53] })] }),
  'shape 2^53-1': JSON.stringify({ inputs: [input({ shape: [2 ** 53 - 1] })] }),
  'shape 1e400': '{"inputs":[{"name":"x","datatype":"FP32","shape":[1e400],"data":[]}]}',
  'shape a string': JSON.stringify({ inputs: [input({ shape: ['1'] })] }),
  'shape nested': JSON.stringify({ inputs: [input({ shape: [[1]] })] }),
  'datatype unknown': JSON.stringify({ inputs: [input({ datatype: 'FP8' })] }),
  'datatype a prototype key': JSON.stringify({ inputs: [input({ datatype: 'toString' })] }),
  'datatype __proto__': JSON.stringify({ inputs: [input({ datatype: '__proto__' })] }),
  'data a scalar': JSON.stringify({ inputs: [input({ data: 5 })] }),
  'data a string': JSON.stringify({ inputs: [input({ data: 'abc' })] }),
  'data null': JSON.stringify({ inputs: [input({ data: null })] }),
  'data an object': JSON.stringify({ inputs: [input({ data: { 0: 1 } })] }),
  'data missing': JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }] }),
  'flat parameters of every scalar': JSON.stringify({
    inputs: [input({ parameters: { a: 1, b: 's', c: true, d: null, ü: -0 } })],
  }),
  'nine flat parameters': JSON.stringify({
    inputs: [input({ parameters: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, i])) })],
  }),
  'parameters an array': JSON.stringify({ inputs: [input({ parameters: [1] })] }),
  'parameters null': JSON.stringify({ inputs: [input({ parameters: null })] }),
  'parameters too deep': JSON.stringify({ inputs: [input({ parameters: { d: deep(80) } })] }),
  'root parameters too deep': JSON.stringify({ parameters: { d: deep(80) }, inputs: [input()] }),
  '__proto__ key at the root':
    '{"__proto__":{"inputs":[]},"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}',
  '__proto__ key in an input':
    '{"inputs":[{"__proto__":{"name":"y"},"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}',
  '__proto__ key in parameters':
    '{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1],"parameters":{"__proto__":{"a":1},"b":2}}]}',
  'constructor key': '{"constructor":1,"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}',
  'huge numbers in data': '{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1e308,-1e400]}]}',
};

describe('the infer request fast path', () => {
  it.each(Object.entries(CASES))('agrees with zod on %s', (_what, text) => {
    expect(viaFast(JSON.parse(text))).toStrictEqual(viaZod(JSON.parse(text)));
  });

  it('answers on its own for the common shapes (no zod for the request object)', () => {
    expect(fastInferenceRequest(JSON.parse(CASES.plain!))).toBeDefined();
    expect(fastInferenceRequest(JSON.parse(CASES['with id, outputs, parameters']!))).toBeDefined();
  });

  it('leaves every refused and unusual value to zod', () => {
    for (const what of [
      'extra root key',
      'no inputs',
      '65 inputs',
      'shape -1',
      'datatype a prototype key',
      '__proto__ key at the root',
    ])
      expect(fastInferenceRequest(JSON.parse(CASES[what]!)), what).toBeUndefined();
    // Values JSON.parse never makes: a class instance, a symbol key, an undefined member.
    expect(fastInferenceRequest(Object.assign(Object.create({}), { inputs: [input()] }))).toBeUndefined();
    expect(fastInferenceRequest({ inputs: [input()], [Symbol('s')]: 1 })).toBeUndefined();
    expect(fastInferenceRequest({ inputs: [input()], id: undefined })).toBeUndefined();
  });

  it('keeps the binary extension’s typed data as it is', () => {
    const data = new Float32Array(3);
    const r = parseInferenceRequest({ inputs: [input({ data: [] })] });
    expect(r.inputs[0]!.data).toEqual([]);
    expect(viaFast({ inputs: [input({ data })] })).toStrictEqual(viaZod({ inputs: [input({ data })] }));
  });
});
