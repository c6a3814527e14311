import { describe, expect, it } from 'vitest';
import { childTraceContext, formatTraceparent, newTraceContext, parseTraceparent } from './trace-context.ts';

describe('W3C traceparent', () => {
  it('parses the spec example and formats it back', () => {
    const value = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ctx = parseTraceparent(value);
    expect(ctx).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    });
    expect(formatTraceparent(ctx!)).toBe(value);
  });

  it.each([
    ['upper case', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero span id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['extra field on version 00', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz'],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['not a string', 42],
    ['oversized', `00-${'a'.repeat(400)}`],
  ])('ignores %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('accepts a later version with more fields (forward compatible), keeping the known ones', () => {
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later')?.flags).toBe(0);
  });

  it('a child keeps the trace and flags with a span of its own', () => {
    const root = newTraceContext();
    const child = childTraceContext(root);
    expect(child.traceId).toBe(root.traceId);
    expect(child.flags).toBe(1);
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(root.spanId);
    expect(parseTraceparent(formatTraceparent(child))).toEqual(child);
  });

  it('draws ids from its random pool without reuse, across refills (4096 bytes: ~170 traces)', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const ctx = newTraceContext();
      expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(ctx.spanId).toMatch(/^[0-9a-f]{16}$/);
      ids.add(ctx.traceId).add(ctx.spanId);
    }
    expect(ids.size).toBe(2_000);
  });
});
