import { HexEdgeError } from '@hexedge/protocol';
import { createHash } from 'node:crypto';
import type { ModelManifest } from '../models/manifest.ts';
import { readModelDir, type VerifiedArtifact } from '@hexedge/protocol/node';
import { formatModelRef, parseModelRef, type ModelRef } from '../store/model-ref.ts';
import { artifactUrl, describeFetchError, resolveManifest, type PullSource } from '../store/pull-sources.ts';
import { writeModel } from '@hexedge/protocol/node';

/** No node pulls more than this for one model, whatever a manifest claims (the largest we ship is ~11 MiB). */
export const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;
/**
 * Longest wait for a source's response headers or its next chunk. A stall, not a total: a large
 * model over a slow link may take minutes, but a source that sends nothing for this long is dead.
 */
export const DEFAULT_PULL_TIMEOUT_MS = 15_000;

export type PullOutcome =
  | 'ok'
  | 'not-found'
  | 'unreachable'
  | 'timed-out'
  | 'http-error'
  | 'too-large'
  | 'size-mismatch'
  | 'hash-mismatch';

/** One try at one source, kept as data so callers can show why a source was skipped. */
export interface PullAttempt {
  source: PullSource;
  outcome: PullOutcome;
  message: string;
}

export type PullProgressEvent =
  | { phase: 'start'; manifest: ModelManifest; source: PullSource }
  | { phase: 'data'; manifest: ModelManifest; source: PullSource; receivedBytes: number }
  | { phase: 'end'; manifest: ModelManifest; source: PullSource; attempt: PullAttempt };

export interface PullOptions {
  /** A content id, `name@version`, or a manifest already in hand. */
  ref: string | ModelRef | ModelManifest;
  /** Nearest first: peers, then the origin. */
  sources: PullSource[];
  modelsDir: string;
  timeoutMs?: number;
  maxSizeBytes?: number;
  onProgress?: (event: PullProgressEvent) => void;
}

export interface PullResult {
  manifest: ModelManifest;
  file: string;
  /** Undefined when the models directory already held the artifact. */
  source: PullSource | undefined;
  attempts: PullAttempt[];
}

const isManifest = (ref: PullOptions['ref']): ref is ModelManifest =>
  typeof ref === 'object' && 'sizeBytes' in ref;

function heldMatch(held: VerifiedArtifact[], ref: ModelRef | ModelManifest): VerifiedArtifact | undefined {
  if ('contentId' in ref) return held.find((a) => a.manifest.contentId === ref.contentId);
  return held.find((a) => a.manifest.name === ref.name && a.manifest.version === ref.version);
}

/**
 * Pulls one model into a models directory: resolves its manifest (unless given), then streams the
 * bytes from each source in turn, hashing as they arrive and stopping at the manifest's size. The
 * first source whose bytes hash to the content id wins; only then is anything written (through
 * `writeModel`'s temporary name and rename), so bad bytes from a peer never land in the directory.
 * Throws MODEL_NOT_FOUND listing every source's outcome when none delivered.
 */
export async function pullModel(options: PullOptions): Promise<PullResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  const maxSizeBytes = Math.min(options.maxSizeBytes ?? MAX_ARTIFACT_BYTES, MAX_ARTIFACT_BYTES);
  const ref = typeof options.ref === 'string' ? parseModelRef(options.ref) : options.ref;
  const held = (await readModelDir(options.modelsDir).catch(() => ({ artifacts: [] }))).artifacts;
  const already = heldMatch(held, ref);
  if (already) return { manifest: already.manifest, file: already.file, source: undefined, attempts: [] };

  let manifest: ModelManifest;
  if (isManifest(ref)) {
    manifest = ref;
  } else {
    const resolved = await resolveManifest({ ref, sources: options.sources, timeoutMs });
    if (!resolved.manifest) {
      const why =
        resolved.problems.length > 0
          ? resolved.problems.join('; ')
          : 'no source given (pass --from URL or --gateway URL)';
      throw new HexEdgeError('MODEL_NOT_FOUND', `no manifest for ${formatModelRef(ref)}: ${why}`);
    }
    manifest = resolved.manifest;
  }
  const label = `${manifest.name}@${manifest.version} (${manifest.contentId.slice(0, 12)})`;
  if (manifest.sizeBytes > maxSizeBytes) {
    throw new HexEdgeError(
      'PAYLOAD_TOO_LARGE',
      `${label} is ${manifest.sizeBytes} bytes, over the ${maxSizeBytes}-byte limit for one model`,
    );
  }
  const clash = held.find(
    (a) => a.manifest.name === manifest.name && a.manifest.version === manifest.version,
  );
  if (clash) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${options.modelsDir} already holds ${manifest.name}@${manifest.version} with other bytes (${clash.manifest.contentId}); remove ${clash.file} to replace it`,
    );
  }

  const attempts: PullAttempt[] = [];
  for (const source of options.sources) {
    options.onProgress?.({ phase: 'start', manifest, source });
    const result = await downloadFrom({ source, manifest, timeoutMs, onProgress: options.onProgress });
    attempts.push(result.attempt);
    options.onProgress?.({ phase: 'end', manifest, source, attempt: result.attempt });
    if (result.bytes) {
      const file = await writeModel({ dir: options.modelsDir, manifest, bytes: result.bytes });
      return { manifest, file, source, attempts };
    }
  }
  const why =
    attempts.map((a) => `${a.source.kind} ${a.source.url}: ${a.message}`).join('; ') || 'no source given';
  throw new HexEdgeError('MODEL_NOT_FOUND', `could not pull ${label}: ${why}`, { attempts });
}

async function downloadFrom(o: {
  source: PullSource;
  manifest: ModelManifest;
  timeoutMs: number;
  onProgress: PullOptions['onProgress'];
}): Promise<{ bytes?: Uint8Array; attempt: PullAttempt }> {
  const { source, manifest } = o;
  const fail = (outcome: PullOutcome, message: string) => ({ attempt: { source, outcome, message } });
  const controller = new AbortController();
  let stalled = false;
  let timer = setTimeout(() => ((stalled = true), controller.abort()), o.timeoutMs);
  const resetTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ((stalled = true), controller.abort()), o.timeoutMs);
  };
  try {
    const res = await fetch(artifactUrl(source, manifest.contentId), { signal: controller.signal });
    if (res.status === 404) return fail('not-found', 'not held there (404)');
    if (!res.ok) return fail('http-error', `answered ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > manifest.sizeBytes)
      return fail('too-large', `announces ${declared} bytes, manifest says ${manifest.sizeBytes}; refused`);
    if (!res.body) return fail('size-mismatch', 'sent no body');

    // Preallocated to the manifest's size: a source can never make us hold more than that.
    const bytes = new Uint8Array(manifest.sizeBytes);
    const hash = createHash('sha256');
    let receivedBytes = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      resetTimer();
      if (receivedBytes + value.byteLength > manifest.sizeBytes) {
        await reader.cancel();
        return fail('too-large', `sent more than the manifest's ${manifest.sizeBytes} bytes; refused`);
      }
      bytes.set(value, receivedBytes);
      hash.update(value);
      receivedBytes += value.byteLength;
      o.onProgress?.({ phase: 'data', manifest, source, receivedBytes });
    }
    if (receivedBytes !== manifest.sizeBytes)
      return fail('size-mismatch', `sent ${receivedBytes} of ${manifest.sizeBytes} bytes`);
    const actual = hash.digest('hex');
    if (actual !== manifest.contentId)
      return fail('hash-mismatch', `bytes hash to ${actual}, not the content id; refused`);
    return { bytes, attempt: { source, outcome: 'ok', message: `${receivedBytes} bytes, hash verified` } };
  } catch (err) {
    if (stalled) return fail('timed-out', `sent nothing for ${o.timeoutMs} ms`);
    const message = describeFetchError(err);
    return fail(message.startsWith('unreachable') ? 'unreachable' : 'http-error', message);
  } finally {
    clearTimeout(timer);
  }
}
