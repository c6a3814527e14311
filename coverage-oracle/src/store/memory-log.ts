import { HexEdgeError } from '@hexedge/protocol';
import { logHeaderOf, type LogEntry, type LogHashKind, type LogHeader } from './records.ts';

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Refuses a page with any hash that is not a SHA-256 in lowercase hex, naming it (before anything is written). */
export function assertLogHashes(page: { epoch: number; kind: LogHashKind; hashes: readonly string[] }): void {
  const bad = page.hashes.find((h) => typeof h !== 'string' || !HASH_PATTERN.test(h));
  if (bad !== undefined)
    throw new HexEdgeError(
      'INTERNAL',
      `epoch ${page.epoch}'s ${page.kind} list: ${JSON.stringify(String(bad).slice(0, 80))} is not 64 lowercase hex digits`,
    );
}

/** Refuses a page that does not start where the list ends (a gap or an overlap would change the root). */
export function assertAppendsAt(
  page: { epoch: number; kind: LogHashKind; fromIndex: number },
  length: number,
): void {
  if (page.fromIndex !== length)
    throw new HexEdgeError(
      'INTERNAL',
      `epoch ${page.epoch}'s ${page.kind} list holds ${length} hashes; a page from ${page.fromIndex} would not extend it`,
    );
}

export function assertCounts(
  epoch: number,
  counts: Readonly<Record<LogHashKind, number>>,
  held: Record<LogHashKind, number>,
): void {
  for (const kind of ['receipts', 'verdicts'] as const)
    if (held[kind] !== counts[kind])
      throw new HexEdgeError(
        'INTERNAL',
        `epoch ${epoch} holds ${held[kind]} ${kind} hashes, ${counts[kind]} expected`,
      );
}

/** What reading a pruned epoch's lists says: they are in its exported file only. */
export function prunedError(epoch: number): HexEdgeError {
  return new HexEdgeError(
    'INTERNAL',
    `epoch ${epoch}'s hash lists were pruned from the store after they were exported; they are in its exported file (epoch-${String(epoch).padStart(8, '0')}.log.json) only`,
  );
}

/** The memory store's provenance log: headers, and each epoch's hash lists (pending until its header commits). */
export class MemoryProvenanceLog {
  readonly #headers: LogHeader[] = [];
  readonly #lists = new Map<number, Record<LogHashKind, string[]>>();
  readonly #pruned = new Set<number>();
  readonly #assertChains: (last: LogHeader | undefined, next: LogHeader) => void;

  constructor(assertChains: (last: LogHeader | undefined, next: LogHeader) => void) {
    this.#assertChains = assertChains;
  }

  #closed(epoch: number): boolean {
    return this.#headers.some((h) => h.epoch === epoch);
  }

  appendEntry(entry: LogEntry): void {
    this.#assertChains(this.#headers.at(-1), entry);
    assertLogHashes({ epoch: entry.epoch, kind: 'receipts', hashes: entry.receiptHashes });
    assertLogHashes({ epoch: entry.epoch, kind: 'verdicts', hashes: entry.verdictHashes });
    this.#lists.set(entry.epoch, { receipts: [...entry.receiptHashes], verdicts: [...entry.verdictHashes] });
    this.#headers.push(structuredClone(logHeaderOf(entry)));
  }

  appendHashes(page: {
    epoch: number;
    kind: LogHashKind;
    fromIndex: number;
    hashes: readonly string[];
  }): void {
    if (this.#closed(page.epoch))
      throw new HexEdgeError('INTERNAL', `epoch ${page.epoch} is closed: its ${page.kind} list is final`);
    assertLogHashes(page);
    const lists = this.#lists.get(page.epoch) ?? { receipts: [], verdicts: [] };
    assertAppendsAt(page, lists[page.kind].length);
    lists[page.kind].push(...page.hashes);
    this.#lists.set(page.epoch, lists);
  }

  discardHashes(epoch: number): void {
    if (this.#closed(epoch))
      throw new HexEdgeError('INTERNAL', `epoch ${epoch} is closed: its hash lists are final`);
    this.#lists.delete(epoch);
  }

  commitHeader(header: LogHeader, counts: Readonly<Record<LogHashKind, number>>): void {
    this.#assertChains(this.#headers.at(-1), header);
    const lists = this.#lists.get(header.epoch) ?? { receipts: [], verdicts: [] };
    assertCounts(header.epoch, counts, { receipts: lists.receipts.length, verdicts: lists.verdicts.length });
    this.#lists.set(header.epoch, lists);
    this.#headers.push(structuredClone(header));
  }

  listHashes(options: { epoch: number; kind: LogHashKind; fromIndex: number; limit: number }): string[] {
    if (this.#pruned.has(options.epoch)) throw prunedError(options.epoch);
    if (!this.#closed(options.epoch)) return [];
    const list = this.#lists.get(options.epoch)?.[options.kind] ?? [];
    return list.slice(options.fromIndex, options.fromIndex + options.limit);
  }

  pruneHashes(epoch: number, limit: number): number {
    if (!this.#closed(epoch))
      throw new HexEdgeError('INTERNAL', `epoch ${epoch} is not closed: nothing to prune`);
    this.#pruned.add(epoch);
    const lists = this.#lists.get(epoch);
    if (!lists) return 0;
    let deleted = 0;
    for (const kind of ['receipts', 'verdicts'] as const) {
      const cut = lists[kind].splice(0, limit - deleted);
      deleted += cut.length;
    }
    if (lists.receipts.length === 0 && lists.verdicts.length === 0) this.#lists.delete(epoch);
    return deleted;
  }

  unprunedEpochs(options: { beforeEpoch: number; limit: number }): number[] {
    return this.#headers
      .map((h) => h.epoch)
      .filter((e) => e < options.beforeEpoch && !this.#pruned.has(e))
      .slice(0, options.limit);
  }

  listHeaders(options: { fromEpoch: number; limit: number }): LogHeader[] {
    return this.#headers
      .filter((h) => h.epoch >= options.fromEpoch)
      .slice(0, options.limit)
      .map((h) => structuredClone(h));
  }

  getHeader(epoch: number): LogHeader | undefined {
    const h = this.#headers.find((l) => l.epoch === epoch);
    return h && structuredClone(h);
  }

  recentHeaders(limit: number): LogHeader[] {
    return this.#headers.slice(-limit).map((h) => structuredClone(h));
  }
}
