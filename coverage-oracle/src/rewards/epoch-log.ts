import { canonicalBytes, sha256Hex, type Sha256Hex } from '@hexedge/protocol';
import { GENESIS_LOG_ROOT } from '../store/memory-store.ts';
import type { LogEntry, LogHeader, Verdict } from '../store/records.ts';
import { merkleRoot } from './merkle.ts';

/** Prefix of the log-root preimage, beside the Merkle tree's 0x00 (leaf) and 0x01 (node). */
export const LOG_ROOT_PREFIX = 0x02;
const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));

export async function logRootOf(
  header: Omit<LogEntry, 'logRoot' | 'manifestJson' | 'receiptHashes' | 'verdictHashes'>,
): Promise<string> {
  const body = canonicalBytes(header);
  const input = new Uint8Array(1 + body.length);
  input[0] = LOG_ROOT_PREFIX;
  input.set(body, 1);
  return sha256Hex(input);
}

/** SHA-256 of the verdict's canonical JSON; `sha256` a runtime's faster one (the same digest). */
export async function verdictHash(verdict: Verdict, sha256: Sha256Hex = sha256Hex): Promise<string> {
  return sha256(canonicalBytes(verdict));
}

/** An epoch's header from its roots, fields in the order entries have always had (exports are byte-stable). */
export async function buildLogHeader(options: {
  epoch: number;
  startMs: number;
  endMs: number;
  prevLogRoot: string;
  manifestBytes: Uint8Array;
  receiptsRoot: string;
  verdictsRoot: string;
}): Promise<LogHeader> {
  const { epoch, startMs, endMs, prevLogRoot, receiptsRoot, verdictsRoot } = options;
  const manifestHash = await sha256Hex(options.manifestBytes);
  const header = { epoch, startMs, endMs, prevLogRoot, manifestHash, receiptsRoot, verdictsRoot };
  return {
    ...header,
    logRoot: await logRootOf(header),
    manifestJson: new TextDecoder().decode(options.manifestBytes),
  };
}

/**
 * One epoch of the append-only log: the signed manifest's hash and Merkle roots over the epoch's
 * receipt hashes and verdict hashes, chained by `prevLogRoot`. logRoot = SHA-256(0x02 ‖ canonical JSON
 * of the header), so each root commits to every earlier epoch.
 */
export async function buildLogEntry(options: {
  epoch: number;
  startMs: number;
  endMs: number;
  prevLogRoot: string;
  manifestBytes: Uint8Array;
  receiptHashes: readonly string[];
  verdicts: readonly Verdict[];
}): Promise<LogEntry> {
  const receiptHashes = [...options.receiptHashes].sort();
  const verdictHashes = (await Promise.all(options.verdicts.map((v) => verdictHash(v)))).sort();
  const [manifestHash, receiptsRoot, verdictsRoot] = await Promise.all([
    sha256Hex(options.manifestBytes),
    merkleRoot(receiptHashes.map(hexBytes)),
    merkleRoot(verdictHashes.map(hexBytes)),
  ]);
  const header = {
    epoch: options.epoch,
    startMs: options.startMs,
    endMs: options.endMs,
    prevLogRoot: options.prevLogRoot,
    manifestHash,
    receiptsRoot,
    verdictsRoot,
  };
  return {
    ...header,
    logRoot: await logRootOf(header),
    manifestJson: new TextDecoder().decode(options.manifestBytes),
    receiptHashes,
    verdictHashes,
  };
}

/** Re-derives every root from the entries themselves; the first epoch whose chain or content does not hold, or null. */
export async function findBrokenLogEntry(entries: readonly LogEntry[]): Promise<number | null> {
  let prev = GENESIS_LOG_ROOT;
  for (const e of entries) {
    const [manifestHash, receiptsRoot, verdictsRoot] = await Promise.all([
      sha256Hex(new TextEncoder().encode(e.manifestJson)),
      merkleRoot(e.receiptHashes.map(hexBytes)),
      merkleRoot(e.verdictHashes.map(hexBytes)),
    ]);
    const header = {
      epoch: e.epoch,
      startMs: e.startMs,
      endMs: e.endMs,
      prevLogRoot: e.prevLogRoot,
      manifestHash,
      receiptsRoot,
      verdictsRoot,
    };
    if (
      e.prevLogRoot !== prev ||
      manifestHash !== e.manifestHash ||
      receiptsRoot !== e.receiptsRoot ||
      verdictsRoot !== e.verdictsRoot ||
      (await logRootOf(header)) !== e.logRoot
    ) {
      return e.epoch;
    }
    prev = e.logRoot;
  }
  return null;
}
