import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { SqliteOracleStore } from '@hexedge/coverage-oracle/node';

/** The epoch the bench closes: epoch 1000 of one hour (a realistic timestamp, and epochs before it empty). */
export const BENCH_EPOCH_MS = 3_600_000;
export const BENCH_EPOCH = 1000;
export const BENCH_NODES = 1000;
export const BENCH_MODELS = ['mnist', 'resnet', 'tiny-yolo'];

/**
 * Writes an oracle SQLite file holding `workCount` work records spread over one epoch (BENCH_NODES nodes,
 * three models, 2.5 % sampled, a tenth of those fraud), with the spot-check, availability and PoC
 * verdicts such traffic makes. Rows go in with raw SQL in one transaction (the fill is not what is
 * measured); the store made the tables and rebuilds the work totals on its next open.
 */
export function writeEpochFixture(options: { file: string; workCount: number }): void {
  new SqliteOracleStore({ path: options.file }).close();
  const db = new DatabaseSync(options.file);
  db.exec('PRAGMA synchronous = OFF; PRAGMA cache_size = -524288; BEGIN');
  const insertWork = db.prepare('INSERT INTO work (receipt_hash, at_ms, json) VALUES (?, ?, ?)');
  const insertVerdict = db.prepare('INSERT INTO verdicts (id, node_id, at_ms, json) VALUES (?, ?, ?, ?)');
  const startMs = BENCH_EPOCH * BENCH_EPOCH_MS;
  const nodeId = (i: number) => `node-${String(i % BENCH_NODES).padStart(4, '0')}`.padEnd(43, 'A');
  for (let i = 0; i < options.workCount; i++) {
    const receiptHash = createHash('sha256').update(`receipt ${i}`).digest('hex');
    const atMs = startMs + Math.floor((i / options.workCount) * BENCH_EPOCH_MS);
    const sampled = i % 40 === 0;
    const status = sampled ? (i % 400 === 0 ? 'fraud' : 'pass') : 'unchecked';
    const work = {
      receiptHash,
      nodeId: nodeId(i),
      modelName: BENCH_MODELS[i % BENCH_MODELS.length]!,
      modelVersion: '1.0.0',
      atMs,
      sampled,
      status,
      serviceTimeMs: 3.25,
      ...(sampled ? { checkerMs: 3.5 } : {}),
    };
    insertWork.run(receiptHash, atMs, JSON.stringify(work));
    if (sampled && i % 4000 === 0) {
      // A few confirmed frauds (the node earns nothing in the epoch); the rest passed.
      const v = {
        id: `spot:${receiptHash}`,
        nodeId: work.nodeId,
        kind: 'spot-check',
        status,
        atMs,
        details: { receiptHash, checkers: 1 },
      };
      insertVerdict.run(v.id, v.nodeId, atMs, JSON.stringify(v));
    }
  }
  for (let n = 0; n < BENCH_NODES; n++) {
    for (let probe = 0; probe < 12; probe++) {
      const atMs = startMs + probe * 300_000 + n;
      const v = {
        id: `avail:${n}:${probe}`,
        nodeId: nodeId(n),
        kind: 'availability',
        status: probe % 7 ? 'up' : 'down',
        atMs,
      };
      insertVerdict.run(v.id, v.nodeId, atMs, JSON.stringify(v));
    }
    const atMs = startMs + 1800_000 + n;
    const poc = {
      id: `poc:${n}`,
      nodeId: nodeId(n),
      kind: 'poc-witness',
      status: 'valid',
      atMs,
      rewardUnit: 0.25,
      hexScale: 0.5,
    };
    insertVerdict.run(poc.id, poc.nodeId, atMs, JSON.stringify(poc));
  }
  // The store totals work per second from the rows when its totals table is missing (as for a store from before it).
  db.exec('DROP TABLE IF EXISTS work_totals; COMMIT');
  db.close();
}
