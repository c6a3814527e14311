import { describe, expect, it } from 'vitest';
import { receiptMetadataSchema, safeParseReceiptMetadata } from './receipt-metadata.ts';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('receipt metadata: the hand check gives what zod gives', () => {
  const valid = { traceparent: TP, queueMs: 0.25, runMs: 1.5, priority: 'interactive' };
  const oddValues = [
    undefined,
    null,
    -0,
    -1,
    NaN,
    Infinity,
    3_600_000,
    3_600_001,
    '1',
    true,
    [],
    {},
    'x'.repeat(200),
    'batch',
    'urgent',
  ];
  const cases: unknown[] = [
    valid,
    {},
    null,
    1,
    'x',
    [],
    [valid],
    JSON.parse('{"__proto__":{"runMs":1}}'),
    { ...valid, extra: 1 },
  ];
  for (const key of Object.keys(valid)) for (const v of oddValues) cases.push({ ...valid, [key]: v });
  for (const [i, raw] of cases.entries())
    it(`case ${i}: ${JSON.stringify(raw)?.slice(0, 80)}`, () => {
      const zod = receiptMetadataSchema.safeParse(raw);
      const fast = safeParseReceiptMetadata(raw);
      expect(fast.success).toBe(zod.success);
      if (fast.success && zod.success) expect(fast.data).toStrictEqual(zod.data);
    });
});
