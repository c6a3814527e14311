import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OracleStore } from '../store/oracle-store.ts';

function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { flush: true });
  renameSync(tmp, file);
}

/**
 * Exports the provenance log as files anyone can re-verify (`findBrokenLogEntry`): per epoch the
 * signed manifest exactly as published (`epoch-<n>.manifest.json`) and the log entry with its receipt
 * and verdict hashes (`epoch-<n>.log.json`), plus `log.json`, the chain of roots. Existing epochs are
 * rewritten with identical bytes, so exporting again is harmless.
 */
export function exportLogFiles(options: { store: OracleStore; dir: string }): string[] {
  mkdirSync(options.dir, { recursive: true });
  const written: string[] = [];
  const entries = options.store.listLogEntries();
  for (const e of entries) {
    const name = `epoch-${String(e.epoch).padStart(8, '0')}`;
    const manifestFile = path.join(options.dir, `${name}.manifest.json`);
    const logFile = path.join(options.dir, `${name}.log.json`);
    writeFileAtomic(manifestFile, e.manifestJson);
    writeFileAtomic(logFile, JSON.stringify(e, null, 2) + '\n');
    written.push(manifestFile, logFile);
  }
  const index = path.join(options.dir, 'log.json');
  writeFileAtomic(
    index,
    JSON.stringify(
      entries.map((e) => ({
        epoch: e.epoch,
        prevLogRoot: e.prevLogRoot,
        logRoot: e.logRoot,
        manifestHash: e.manifestHash,
      })),
      null,
      2,
    ) + '\n',
  );
  written.push(index);
  return written;
}
