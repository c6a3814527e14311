import { Ingest, MemoryDirectory, MemoryOracleStore } from '@hexedge/coverage-oracle';
import { nodeSha256Hex, SqliteOracleStore } from '@hexedge/coverage-oracle/node';
import { nodeEd25519OnPool, sodiumEd25519 } from '@hexedge/protocol/node';
import {
  isValidSignature,
  signingInput,
  useEd25519Engine,
  type Ed25519Engine,
  type ReceiptBody,
} from '@hexedge/protocol';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReceiptFixtures } from './fixtures.ts';

/** Posts the oracle takes at once (its HTTP server parses and checks several concurrently). */
const IN_FLIGHT = 4;
/** Concurrent verifications in the WebCrypto anchor, as the oracle suite's anchor runs them. */
const WEBCRYPTO_BATCH = 512;

/**
 * Receipts/s through the oracle's ingest (`Ingest.submitBatch`, as `POST /v1/oracle/reports` calls it):
 * each post's JSON parsed, every report and forwarded receipt checked (schema, freshness, v1 signatures
 * or v2 proofs and roots, reporter), replay-checked in memory and group-committed, IN_FLIGHT posts at a
 * time. `sqlite`: the deployable's store (WAL, synchronous=FULL: every commit fsynced); `memory`: the
 * in-memory store, as the oracle suite's row measures ingest.
 */
export async function ingestRate(
  fixtures: ReceiptFixtures,
  options: { nowMs: number; store: 'sqlite' | 'memory' },
): Promise<{ perS: number; commits: number; cpuUsPerReceipt: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-bench-ingest-'));
  let previousEngine: Ed25519Engine | undefined;
  const store =
    options.store === 'sqlite'
      ? new SqliteOracleStore({ path: path.join(dir, 'oracle.sqlite') })
      : new MemoryOracleStore();
  try {
    const directory = new MemoryDirectory();
    directory.putReporter({ nodeId: fixtures.gateway.nodeId, roles: ['gateway'] });
    // Wired as buildOracle wires it (useNodeEd25519({ verifyOnPool: true })): node:crypto's SHA-256 and
    // libsodium's Ed25519 (node:crypto's on the thread pool without it), for this measurement only: the
    // anchors measure WebCrypto's, node:crypto's and libsodium's own.
    previousEngine = useEd25519Engine(sodiumEd25519 ?? nodeEd25519OnPool);
    const ingest = new Ingest({ store, directory, sha256: nodeSha256Hex, nowMs: () => options.nowMs });
    let next = 0;
    let accepted = 0;
    let refusal: unknown;
    const t = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < fixtures.posts.length) {
          const raw = JSON.parse(fixtures.posts[next++]!) as unknown[];
          for (const r of await ingest.submitBatch(raw, options.nowMs))
            if (r.accepted) accepted++;
            else refusal ??= r;
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    if (accepted !== fixtures.singles.length)
      throw new Error(
        `only ${accepted}/${fixtures.singles.length} receipt reports accepted; first refusal: ${JSON.stringify(refusal)}`,
      );
    return {
      perS: accepted / seconds,
      commits: ingest.commitStats.commits,
      cpuUsPerReceipt: (user + system) / accepted,
    };
  } finally {
    if (previousEngine) useEd25519Engine(previousEngine);
    if (store instanceof SqliteOracleStore) store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Single = { body: ReceiptBody; signature: string };

/**
 * Anchor: one Ed25519 verification per receipt and nothing else, through node:crypto `verify` over
 * each v1 receipt's signed bytes (made beforehand) with the signer's key object made once — node's
 * own fastest per-receipt check (OpenSSL).
 */
export function rawNodeVerifyRate(singles: readonly Single[]): { perS: number; cpuUsPerReceipt: number } {
  const keys = new Map<string, KeyObject>();
  const keyOf = (nodeId: string) => {
    let key = keys.get(nodeId);
    if (!key)
      keys.set(
        nodeId,
        (key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: nodeId }, format: 'jwk' })),
      );
    return key;
  };
  const inputs = singles.map((s) => ({
    key: keyOf(s.body.nodeId),
    sig: Buffer.from(s.signature, 'base64url'),
    bytes: signingInput('receipt', s.body),
  }));
  const t = performance.now();
  const cpu = process.cpuUsage();
  for (const { key, sig, bytes } of inputs)
    if (!verify(null, bytes, key, sig)) throw new Error('a receipt did not verify');
  const { user, system } = process.cpuUsage(cpu);
  return {
    perS: singles.length / ((performance.now() - t) / 1000),
    cpuUsPerReceipt: (user + system) / singles.length,
  };
}

/**
 * Anchor: one Ed25519 verification per receipt and nothing else, through libsodium (sodium-native, the
 * engine the oracle's builder installs) over each v1 receipt's signed bytes made beforehand: the
 * cheapest per-receipt check this project has, so batch roots are measured against the best alternative.
 */
export function rawSodiumVerifyRate(singles: readonly Single[]): { perS: number; cpuUsPerReceipt: number } {
  const engine = sodiumEd25519;
  if (!engine) throw new Error('sodium-native did not load: the receipts suite measures against it');
  const inputs = singles.map((s) => ({
    nodeId: s.body.nodeId,
    sig: Buffer.from(s.signature, 'base64url'),
    bytes: signingInput('receipt', s.body),
  }));
  const t = performance.now();
  const cpu = process.cpuUsage();
  for (const { nodeId, sig, bytes } of inputs)
    if (engine.verify(nodeId, sig, bytes) !== true) throw new Error('a receipt did not verify');
  const { user, system } = process.cpuUsage(cpu);
  return {
    perS: singles.length / ((performance.now() - t) / 1000),
    cpuUsPerReceipt: (user + system) / singles.length,
  };
}

/**
 * Anchor: one Ed25519 verification per receipt through WebCrypto (`crypto.subtle.verify`, protocol's
 * `isValidSignature`, the runtime-neutral check every service ran per receipt before batch roots),
 * WEBCRYPTO_BATCH at a time: the oracle suite's anchor, over receipts.
 */
export async function rawWebVerifyRate(singles: readonly Single[]): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < singles.length; i += WEBCRYPTO_BATCH) {
    const ok = await Promise.all(
      singles.slice(i, i + WEBCRYPTO_BATCH).map((s) => isValidSignature('receipt', s)),
    );
    if (ok.includes(false)) throw new Error('a receipt did not verify');
  }
  return singles.length / ((performance.now() - t) / 1000);
}
