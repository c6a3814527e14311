import { describe, expect, it } from 'vitest';
import { NodeInFlight } from './node-in-flight.ts';

describe('NodeInFlight', () => {
  it('counts per node, gives each count back once, and forgets idle nodes', () => {
    const book = new NodeInFlight();
    const a1 = book.begin('a');
    const a2 = book.begin('a');
    const b1 = book.begin('b');
    expect([book.get('a'), book.get('b'), book.get('c')]).toEqual([2, 1, undefined]);
    a1();
    a1(); // a second call of the same end changes nothing
    expect(book.get('a')).toBe(1);
    a2();
    b1();
    expect(book.size).toBe(0);
  });
});
