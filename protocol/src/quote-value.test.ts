import { describe, expect, it } from 'vitest';
import { quoteValue } from './quote-value.ts';

/** `[[[…1…]]]` nested `depth` deep, parsed by JSON.parse (which accepts depths JSON.stringify cannot print). */
const deepArray = (depth: number): unknown => JSON.parse('['.repeat(depth) + '1' + ']'.repeat(depth));

describe('quoteValue', () => {
  it('quotes strings as JSON, cut to the limit with a mark', () => {
    expect(quoteValue('r-2')).toBe('"r-2"');
    expect(quoteValue('a"b\n')).toBe('"a\\"b\\n"');
    expect(quoteValue('x'.repeat(200), 10)).toBe(`"${'x'.repeat(10)}"…`);
    expect(quoteValue('x'.repeat(10), 10)).toBe(`"${'x'.repeat(10)}"`);
  });

  it('prints scalars as JSON would and names containers by kind and size', () => {
    expect(quoteValue(12)).toBe('12');
    expect(quoteValue(-0.5)).toBe('-0.5');
    expect(quoteValue(true)).toBe('true');
    expect(quoteValue(null)).toBe('null');
    expect(quoteValue(undefined)).toBe('undefined');
    expect(quoteValue(3n)).toBe('3n');
    expect(quoteValue([])).toBe('an array of 0 items');
    expect(quoteValue([1])).toBe('an array of 1 item');
    expect(quoteValue({ a: 1 })).toBe('an object');
  });

  it('answers for a value too deep for JSON.stringify instead of overflowing the stack', () => {
    const deep = deepArray(200_000);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(quoteValue(deep)).toBe('an array of 1 item');
    expect(quoteValue({ id: deep })).toBe('an object');
  });
});
