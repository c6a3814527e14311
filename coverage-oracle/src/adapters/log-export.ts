import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { pacer } from '../stages/epoch-log-writer.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { LogHashKind, LogHeader } from '../store/records.ts';

/** Hashes read and written per step of an epoch's file. */
const EXPORT_PAGE_SIZE = 8192;
/** Headers read per step when the chain index is rebuilt. */
const HEADER_PAGE_SIZE = 16;
/** Hash rows deleted per step when an exported epoch's lists are pruned (one short write each). */
const PRUNE_STEP_ROWS = 20_000;
/** Epochs looked at per step when finding what to prune. */
const PRUNE_SCAN_EPOCHS = 64;

interface ChainLink {
  epoch: number;
  prevLogRoot: string;
  logRoot: string;
  manifestHash: string;
}

const epochName = (epoch: number) => `epoch-${String(epoch).padStart(8, '0')}`;
const linkOf = (h: LogHeader): ChainLink => ({
  epoch: h.epoch,
  prevLogRoot: h.prevLogRoot,
  logRoot: h.logRoot,
  manifestHash: h.manifestHash,
});

function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { flush: true });
  renameSync(tmp, file);
}

/**
 * `epoch-<n>.log.json` written as it is read, page by page, to a temporary file renamed into place when
 * whole: the same bytes as `JSON.stringify(entry, null, 2) + '\n'` of the full entry, without ever
 * holding its lists (millions of hashes at scale).
 */
async function writeLogFile(options: {
  store: OracleStore;
  header: LogHeader;
  file: string;
  pace: () => Promise<void>;
}): Promise<void> {
  const { store, header, file, pace } = options;
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const head = JSON.stringify(header, null, 2);
    writeSync(fd, `${head.slice(0, -2)},\n`);
    for (const kind of ['receipts', 'verdicts'] as const satisfies LogHashKind[]) {
      writeSync(fd, `  "${kind === 'receipts' ? 'receiptHashes' : 'verdictHashes'}": [`);
      let fromIndex = 0;
      for (;;) {
        const page = store.listLogHashes({ epoch: header.epoch, kind, fromIndex, limit: EXPORT_PAGE_SIZE });
        if (page.length === 0) break;
        writeSync(fd, `${fromIndex === 0 ? '' : ','}\n    "${page.join('",\n    "')}"`);
        fromIndex += page.length;
        await pace();
      }
      writeSync(fd, `${fromIndex === 0 ? ']' : '\n  ]'}${kind === 'receipts' ? ',' : ''}\n`);
    }
    writeSync(fd, '}\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** The chain index as exported before, when it still ends just before `nextEpoch`; undefined otherwise. */
function readChain(file: string, nextEpoch: number): ChainLink[] | undefined {
  try {
    const links = JSON.parse(readFileSync(file, 'utf8')) as ChainLink[];
    if (!Array.isArray(links) || links.at(-1)?.epoch !== nextEpoch - 1) return undefined;
    return links;
  } catch {
    return undefined;
  }
}

/**
 * Exports the provenance log as files anyone can re-verify (`findBrokenLogEntry`): per epoch the
 * signed manifest exactly as published (`epoch-<n>.manifest.json`) and the log entry with its receipt
 * and verdict hashes (`epoch-<n>.log.json`), plus `log.json`, the chain of roots. Only epochs not
 * exported yet are written (found from the newest back to the first one with its file), oldest first,
 * each streamed from the store page by page with pauses for the event loop; `log.json` is extended
 * from its last export (rebuilt from the headers when it is missing or does not end where the new
 * epochs start). Returns the files written.
 */
export async function exportLogFiles(options: { store: OracleStore; dir: string }): Promise<string[]> {
  const { store, dir } = options;
  mkdirSync(dir, { recursive: true });
  const pace = pacer();
  const index = path.join(dir, 'log.json');
  const written: string[] = [];
  // Epoch numbers only: a header carries its manifest, so each is read again when its files are written.
  const missing: number[] = [];
  const last = store.listRecentLogHeaders(1)[0]?.epoch;
  if (last !== undefined)
    for (let epoch = last; !existsSync(path.join(dir, `${epochName(epoch)}.log.json`)); epoch--) {
      if (epoch !== last && !store.getLogHeader(epoch)) break;
      missing.unshift(epoch);
    }
  const links: ChainLink[] = [];
  for (const epoch of missing) {
    const header = store.getLogHeader(epoch)!;
    links.push(linkOf(header));
    const manifestFile = path.join(dir, `${epochName(header.epoch)}.manifest.json`);
    const logFile = path.join(dir, `${epochName(header.epoch)}.log.json`);
    writeFileAtomic(manifestFile, header.manifestJson);
    await writeLogFile({ store, header, file: logFile, pace });
    written.push(manifestFile, logFile);
  }
  if (missing.length === 0 && existsSync(index)) return written;
  const before = missing.length ? readChain(index, missing[0]!) : undefined;
  let chain: ChainLink[];
  if (before) chain = [...before, ...links];
  else {
    chain = [];
    for (let fromEpoch = Number.MIN_SAFE_INTEGER; ;) {
      const page = store.listLogHeaders({ fromEpoch, limit: HEADER_PAGE_SIZE });
      chain.push(...page.map(linkOf));
      if (page.length < HEADER_PAGE_SIZE) break;
      fromEpoch = page.at(-1)!.epoch + 1;
      await pace();
    }
  }
  writeFileAtomic(index, JSON.stringify(chain, null, 2) + '\n');
  written.push(index);
  return written;
}

/**
 * Drops from the store the hash lists of exported epochs numbered `keepEpochs` or more below the
 * newest. At the fabric's rate an epoch lists millions of receipt hashes (~40 bytes a row in SQLite):
 * kept for ever, the store grew by gigabytes a day. An epoch's lists go only once its
 * `epoch-<n>.log.json` exists (written whole, fsynced, then renamed into place by `exportLogFiles`),
 * in bounded steps with pauses for the event loop; from then on that file is their record, and an
 * export that would need them again (the file deleted) fails naming the epoch rather than write empty
 * lists. `keepEpochs` 0 keeps every list. Returns the epochs pruned.
 */
export async function pruneExportedLogHashes(options: {
  store: OracleStore;
  dir: string;
  keepEpochs: number;
  /** Rows deleted per step (tests make it small). */
  stepRows?: number;
}): Promise<number[]> {
  const { store, dir, keepEpochs } = options;
  const stepRows = options.stepRows ?? PRUNE_STEP_ROWS;
  if (keepEpochs <= 0) return [];
  const newest = store.listRecentLogHeaders(1)[0]?.epoch;
  if (newest === undefined) return [];
  const pace = pacer();
  const pruned: number[] = [];
  for (;;) {
    const epochs = store.listUnprunedLogEpochs({
      beforeEpoch: newest - keepEpochs + 1,
      limit: PRUNE_SCAN_EPOCHS,
    });
    const exported = epochs.filter((e) => existsSync(path.join(dir, `${epochName(e)}.log.json`)));
    for (const epoch of exported) {
      while (store.pruneLogHashes(epoch, stepRows) > 0) await pace();
      pruned.push(epoch);
    }
    // An epoch not exported yet stays listed: stop rather than see it again.
    if (exported.length === 0 || exported.length < epochs.length) return pruned;
  }
}
