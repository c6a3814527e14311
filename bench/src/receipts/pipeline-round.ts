import { CoverageOracle, MemoryDirectory, parseOracleConfig } from '@hexedge/coverage-oracle';
import { nodeSha256Hex, SqliteOracleStore } from '@hexedge/coverage-oracle/node';
import { generateNodeKeyPair, useEd25519Engine } from '@hexedge/protocol';
import { nodeEd25519OnPool, sodiumEd25519 } from '@hexedge/protocol/node';
import { syscallsOf } from '@hexedge/test-kit/processes';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReceiptFixtures } from './fixtures.ts';

/** What one round of the oracle's durable pipeline cost per receipt. */
export interface PipelineRound {
  /** User + system CPU of this process (all threads). */
  cpuUs: number;
  /** Read- and write-class system calls (/proc/self/io); absent where that file is not readable. */
  reads?: number;
  writes?: number;
}

/**
 * The oracle's durable pipeline per forwarded receipt, as it runs under load: the fixtures' posts
 * through ingest on a new SQLite store (group commit, synchronous=FULL), the verify stage draining
 * every `postsPerVerify` posts (its 1 s rest at ~1 500 receipts/s), in this process, with libsodium
 * as the oracle's builder installs it. A count, not a time, for the system calls: they do not move
 * with the machine's noise.
 */
export async function pipelineRound(
  fixtures: ReceiptFixtures,
  options: { nowMs: number; postsPerVerify: number },
): Promise<PipelineRound> {
  const { nowMs } = options;
  const previous = useEd25519Engine(sodiumEd25519 ?? nodeEd25519OnPool);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-pipeline-cpu-'));
  const store = new SqliteOracleStore({ path: path.join(dir, 'oracle.sqlite') });
  try {
    const directory = new MemoryDirectory();
    directory.putReporter({ nodeId: fixtures.gateway.nodeId, roles: ['gateway'] });
    const oracle = new CoverageOracle({
      // hexedge dev's sampling rate; no re-run wired, so sampled receipts stay unchecked work.
      config: parseOracleConfig({ samplingRate: 0.2 }),
      keys: await generateNodeKeyPair(),
      samplingSecret: new TextEncoder().encode('bench sampling secret, 32 bytes!'),
      store,
      directory,
      sink: { publish() {} },
      sha256: nodeSha256Hex,
      nowMs: () => nowMs,
    });
    const drain = async () => {
      while ((await oracle.verifyStage.tick(nowMs)) > 0);
    };
    const count = fixtures.singles.length;
    const cpu = process.cpuUsage();
    const io = syscallsOf(process.pid);
    for (let i = 0; i < fixtures.posts.length; i++) {
      for (const r of await oracle.ingest.submitBatch(JSON.parse(fixtures.posts[i]!) as unknown[], nowMs))
        if (!r.accepted) throw new Error(`a receipt report was refused: ${JSON.stringify(r)}`);
      if ((i + 1) % options.postsPerVerify === 0) await drain();
    }
    await drain();
    const { user, system } = process.cpuUsage(cpu);
    const after = syscallsOf(process.pid);
    return {
      cpuUs: (user + system) / count,
      ...(io && after
        ? { reads: (after.reads - io.reads) / count, writes: (after.writes - io.writes) / count }
        : {}),
    };
  } finally {
    useEd25519Engine(previous);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
