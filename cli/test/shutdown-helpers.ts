import type { InferResponse, LatLng } from '@hexedge/protocol';
import { DatabaseSync } from 'node:sqlite';
import { expect } from 'vitest';
import type { Proc } from '@hexedge/test-kit';

/**
 * What the shutdown tests (dev-shutdown.e2e, gateway-shutdown.e2e) share: inferences whose receipts
 * must reach the oracle, the oracle store read back, and a bounded wait for a signalled process.
 */

/** `count` authenticated comfort-index inferences, each with other readings (`firstReadings` + i); their request ids. */
export async function inferSome(o: {
  gatewayUrl: string;
  apiKey: string;
  count: number;
  location: LatLng;
  firstReadings: [number, number, number];
}): Promise<string[]> {
  const ids: string[] = [];
  const [a, b, c] = o.firstReadings;
  for (let i = 0; i < o.count; i++) {
    const res = await fetch(`${o.gatewayUrl}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'comfort-index',
        location: o.location,
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [[a + i, b + i, c + i]] }],
      }),
    });
    const body = (await res.json()) as InferResponse;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.receipt.body.requestId).toBe(body.id);
    ids.push(body.id);
  }
  return ids;
}

/** The request ids of every receipt report in an oracle's store, read from its SQLite file (read-only). */
export function storedReceiptRequestIds(sqlitePath: string): Set<string> {
  const db = new DatabaseSync(sqlitePath, { readOnly: true });
  try {
    const rows = db
      .prepare(
        `SELECT json_extract(json, '$.body.receipt.body.requestId') AS requestId FROM reports
         WHERE json_extract(json, '$.type') = 'receipt'`,
      )
      .all() as Array<{ requestId: string }>;
    return new Set(rows.map((r) => r.requestId));
  } finally {
    db.close();
  }
}

/** The exit code (or signal) of a signalled process; fails past `deadlineMs` with the end of its log. */
export async function exitWithin(
  proc: Proc,
  o: { deadlineMs: number; what: string },
): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `${o.what} still running ${o.deadlineMs} ms after the signal:\n${proc.lines.slice(-30).join('\n')}`,
              ),
            ),
          o.deadlineMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
