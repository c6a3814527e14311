import type { Sha256Hex } from '@hexedge/protocol';
import { MerkleRootStream } from '../rewards/merkle-stream.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { LogHashKind } from '../store/records.ts';

/** Hashes per log write: ~300 KB of rows, one short transaction each. */
export const LOG_PAGE_SIZE = 8192;
/** The longest a close runs before it lets the event loop run (ingest's posts, the other stages). */
export const CLOSE_SLICE_MS = 20;

/**
 * A pause that yields to the event loop (a timer: macrotasks and I/O run) only once `budgetMs` has
 * passed since the last one, so a small epoch closes without yielding at all and a large one in slices.
 */
export function pacer(budgetMs = CLOSE_SLICE_MS): () => Promise<void> {
  let sinceMs = performance.now();
  return async () => {
    if (performance.now() - sinceMs < budgetMs) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    sinceMs = performance.now();
  };
}

/**
 * Writes one of an epoch's hash lists to the log page by page while folding its Merkle root (O(log n)
 * hashes held): the list is never in memory whole, and the root is the one `merkleRoot` gives over it.
 */
export async function writeHashList(options: {
  store: OracleStore;
  epoch: number;
  kind: LogHashKind;
  hashes: Iterable<string>;
  sha256?: Sha256Hex;
  pace: () => Promise<void>;
}): Promise<{ root: string; count: number }> {
  const { store, epoch, kind, pace } = options;
  const merkle = new MerkleRootStream(options.sha256 ? { sha256: options.sha256 } : {});
  let page: string[] = [];
  const flush = async () => {
    store.appendLogHashes({ epoch, kind, fromIndex: merkle.leafCount, hashes: page });
    await merkle.push(page);
    page = [];
    await pace();
  };
  for (const hash of options.hashes) {
    page.push(hash);
    if (page.length === LOG_PAGE_SIZE) await flush();
  }
  if (page.length > 0) await flush();
  return { root: await merkle.root(), count: merkle.leafCount };
}
