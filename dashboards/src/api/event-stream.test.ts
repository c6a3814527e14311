import { describe, expect, it } from 'vitest';
import { sseParser } from './event-stream.ts';

describe('sseParser', () => {
  it('joins events split across chunks, skips comments and ignores fields other than data', () => {
    const parse = sseParser();
    expect(parse(': hexedge events\nretry: 2000\n\nid: 1\nevent: request\nda')).toEqual([]);
    expect(parse('ta: {"id":1}\n\nid: 2\r\ndata: {"id":2}\r\n\r\n')).toEqual(['{"id":1}', '{"id":2}']);
  });
});
