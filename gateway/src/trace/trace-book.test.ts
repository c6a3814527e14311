import { describe, expect, it } from 'vitest';
import { TraceBook, type TraceRecord } from './trace-book.ts';

const record = (
  o: Partial<TraceRecord> & { requestId: string; tenant: string; traceId: string },
): TraceRecord => ({
  model: 'm',
  channel: 'http',
  atMs: 1_000,
  totalMs: 5,
  ok: true,
  hops: [{ hop: 'gateway', startMs: 0, durationMs: 5 }],
  ...o,
});

describe('TraceBook', () => {
  it("gives a tenant its own request only; the admin's find sees every tenant's", () => {
    const book = new TraceBook();
    book.record(record({ requestId: '1', tenant: 'key:a', traceId: 'a'.repeat(32) }));
    book.record(record({ requestId: '1', tenant: 'key:b', traceId: 'b'.repeat(32) }));
    expect(book.get('key:a', '1')?.traceId).toBe('a'.repeat(32));
    expect(book.get('key:c', '1')).toBeUndefined();
    expect(
      book
        .find('1')
        .map((t) => t.tenant)
        .sort(),
    ).toEqual(['key:a', 'key:b']);
  });

  it('files a spot check under the request whose trace it carries, placed after its arrival', () => {
    const book = new TraceBook();
    book.record(record({ requestId: '1', tenant: 'key:a', traceId: 'a'.repeat(32) }));
    expect(book.addSpotCheck('a'.repeat(32), { atMs: 1_700, durationMs: 3, nodeId: 'n2', ok: true })).toBe(
      true,
    );
    expect(book.get('key:a', '1')!.hops.at(-1)).toEqual({
      hop: 'spot-check',
      startMs: 700,
      durationMs: 3,
      nodeId: 'n2',
      ok: true,
    });
    expect(book.addSpotCheck('f'.repeat(32), { atMs: 1_700, durationMs: 3 })).toBe(false);
  });

  it("does not let another tenant reusing a trace id take that request's spot checks", () => {
    const book = new TraceBook();
    book.record(record({ requestId: 'victim', tenant: 'key:a', traceId: 'a'.repeat(32) }));
    book.record(record({ requestId: 'thief', tenant: 'key:b', traceId: 'a'.repeat(32) }));
    book.addSpotCheck('a'.repeat(32), { atMs: 1_500, durationMs: 1, nodeId: 'n2' });
    expect(book.get('key:a', 'victim')!.hops.some((h) => h.hop === 'spot-check')).toBe(true);
    expect(book.get('key:b', 'thief')!.hops.some((h) => h.hop === 'spot-check')).toBe(false);
  });

  it('keeps at most maxTraces, forgetting the oldest', () => {
    const book = new TraceBook({ maxTraces: 2 });
    for (const id of ['1', '2', '3'])
      book.record(record({ requestId: id, tenant: 'key:a', traceId: id.repeat(32) }));
    expect(book.size).toBe(2);
    expect(book.get('key:a', '1')).toBeUndefined();
    expect(book.byTraceId('1'.repeat(32))).toBeUndefined();
    expect(book.get('key:a', '3')).toBeDefined();
  });
});
