import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Verdict } from '../store/records.ts';
import {
  emptyEvidence,
  EVIDENCE_FORMAT,
  foldVerdicts,
  replaceInEvidence,
  type NodeEvidence,
} from '../trust/node-evidence.ts';

/**
 * The SQLite store's verdicts and per-node evidence (`node_evidence`, one JSON row per node), written
 * together: saving verdicts reads each replaced verdict's stored version by id, takes it out of its
 * node's evidence and adds the new one, all in the caller's transaction. The evidence is also held in
 * memory (O(nodes)); the in-memory copy changes only after the transaction committed.
 */
export class SqliteVerdictEvidence {
  readonly #q: Record<string, StatementSync>;
  #byNode = new Map<string, NodeEvidence>();

  /** Creates the table; an oracle data dir from before it (or another format) is refolded from its verdicts once. */
  constructor(db: DatabaseSync, transaction: (write: () => void) => void) {
    const existed = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'node_evidence'")
      .get();
    db.exec('CREATE TABLE IF NOT EXISTS node_evidence (node_id TEXT PRIMARY KEY, json TEXT NOT NULL) STRICT');
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      getVerdict: p('SELECT json FROM verdicts WHERE id = ?'),
      putVerdict: p('INSERT OR REPLACE INTO verdicts (id, node_id, at_ms, json) VALUES (?, ?, ?, ?)'),
      nodeVerdicts: p('SELECT json FROM verdicts WHERE node_id = ?'),
      verdictNodes: p('SELECT DISTINCT node_id FROM verdicts'),
      anyVerdict: p('SELECT 1 FROM verdicts LIMIT 1'),
      putEvidence: p('INSERT OR REPLACE INTO node_evidence (node_id, json) VALUES (?, ?)'),
      listEvidence: p('SELECT json FROM node_evidence'),
      clearEvidence: p('DELETE FROM node_evidence'),
    };
    for (const row of this.#q.listEvidence!.all()) {
      const e = JSON.parse(row.json as string) as NodeEvidence;
      this.#byNode.set(e.nodeId, e);
    }
    const outdated = [...this.#byNode.values()].some((e) => e.format !== EVIDENCE_FORMAT);
    if (outdated || (!existed && this.#q.anyVerdict!.get())) transaction(() => this.#refoldAll());
  }

  list(): ReadonlyArray<Readonly<NodeEvidence>> {
    return [...this.#byNode.values()];
  }

  /** Saves `verdicts` and their nodes' evidence; call inside a transaction, then `committed` with the result. */
  save(verdicts: readonly Verdict[]): Map<string, NodeEvidence> {
    const working = new Map<string, NodeEvidence>();
    const evidenceOf = (nodeId: string) => {
      let e = working.get(nodeId);
      if (!e) {
        const held = this.#byNode.get(nodeId);
        working.set(nodeId, (e = held ? structuredClone(held) : emptyEvidence(nodeId)));
      }
      return e;
    };
    const stale = new Set<string>();
    for (const v of verdicts) {
      const json = JSON.stringify(v);
      const row = this.#q.getVerdict!.get(v.id);
      // The same verdict saved again (a replay, a retried batch): nothing changes.
      if (row?.json === json) continue;
      this.#q.putVerdict!.run(v.id, v.nodeId, v.atMs, json);
      const previous = row ? (JSON.parse(row.json as string) as Verdict) : undefined;
      replaceInEvidence({ previous, next: v, evidenceOf, stale });
    }
    // Rare: a re-judged verdict was the last kept of a bounded list; refold that node from its verdicts.
    for (const nodeId of stale) working.set(nodeId, this.#fold(nodeId));
    for (const [nodeId, e] of working) this.#q.putEvidence!.run(nodeId, JSON.stringify(e));
    return working;
  }

  committed(working: Map<string, NodeEvidence>): void {
    for (const [nodeId, e] of working) this.#byNode.set(nodeId, e);
  }

  #fold(nodeId: string): NodeEvidence {
    // Streamed: a busy node's history is folded row by row, never held as one array.
    const rows = this.#q.nodeVerdicts!.iterate(nodeId);
    function* verdicts() {
      for (const r of rows) yield JSON.parse(r.json as string) as Verdict;
    }
    return foldVerdicts(verdicts(), { nodeId });
  }

  #refoldAll(): void {
    this.#q.clearEvidence!.run();
    const byNode = new Map<string, NodeEvidence>();
    for (const row of this.#q.verdictNodes!.all()) {
      const e = this.#fold(row.node_id as string);
      byNode.set(e.nodeId, e);
      this.#q.putEvidence!.run(e.nodeId, JSON.stringify(e));
    }
    this.#byNode = byNode;
  }
}
