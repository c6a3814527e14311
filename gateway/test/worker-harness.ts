import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';

const gatewayDir = path.resolve(import.meta.dirname, '..');
const wrangler = path.resolve(gatewayDir, '../node_modules/.bin/wrangler');

/**
 * Bundles a Worker entry with wrangler (the same esbuild pass `wrangler deploy` makes, offline:
 * --dry-run) and returns the bundle's path; `cleanup` removes it.
 */
export function bundleWorker(entry: string): { scriptPath: string; cleanup: () => void } {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-worker-'));
  execFileSync(
    wrangler,
    ['deploy', '--dry-run', '--config', path.join(gatewayDir, 'wrangler.jsonc'), '--outdir', outdir, entry],
    {
      cwd: gatewayDir,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_API_TOKEN: '',
        NO_UPDATE_NOTIFIER: '1',
      },
      stdio: 'pipe',
    },
  );
  return {
    scriptPath: path.join(outdir, path.basename(entry).replace(/\.ts$/, '.js')),
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The Durable Object bindings of wrangler.jsonc; `scriptName` points a second worker at the first one's objects. */
const durableObjects = (shardClass: string, scriptName?: string) => {
  const of = (className: string) => ({ className, useSQLite: true, ...(scriptName ? { scriptName } : {}) });
  return {
    SHARDS: of(shardClass),
    DIRECTORY: of('PlacementDirectory'),
    API_KEYS: of('ApiKeyVault'),
    KEY_DIRECTORY: of('ApiKeyDirectory'),
    SOURCE_LIMITS: of('SourceLimits'),
  };
};

/**
 * workerd (through Miniflare) running the bundle with SQLite-backed objects, as wrangler.jsonc binds
 * them. `isolates` > 1 runs the same bundle as that many workers (`gateway`, `gateway-2`, …): each has
 * its own isolate (its own module state: app, key cache, usage book) and all reach the first one's
 * Durable Objects, as isolates of one deployment do. `dispatchFetch` reaches `gateway`; the others
 * through `getWorker(name)`.
 */
export function startWorker(options: {
  scriptPath: string;
  shardClass?: string;
  persistDir?: string;
  bindings?: Record<string, string>;
  isolates?: number;
  /** Listen on a free loopback port (`await mf.ready` is its URL), for callers outside this process: edge nodes. */
  listen?: boolean;
}): Miniflare {
  const shardClass = options.shardClass ?? 'PlacementShard';
  const worker = (name: string, scriptName?: string) => ({
    name,
    modules: true,
    scriptPath: options.scriptPath,
    // Module names are relative to this; the bundle sits in a temp dir outside the repository.
    modulesRoot: path.dirname(options.scriptPath),
    compatibilityDate: '2026-11-01',
    durableObjects: durableObjects(shardClass, scriptName),
    bindings: {
      HEARTBEAT_INTERVAL_MS: '60000',
      SHARD_MAP_TTL_MS: '1000',
      ASSUME_LOCATIONS_VERIFIED: 'true',
      PIN_JURISDICTIONS: '',
      // Tests that register hundreds of nodes from one address (loopback) are not about the
      // per-source limits; worker-limits.test.ts sets its own.
      REGISTRATION_BURST_PER_SOURCE: '100000',
      HEARTBEATS_PER_SOURCE_PER_SECOND: '100000',
      ...options.bindings,
    },
  });
  const others = Array.from({ length: (options.isolates ?? 1) - 1 }, (_, i) =>
    worker(`gateway-${i + 2}`, 'gateway'),
  );
  return new Miniflare(
    convertV4MiniflareOptions({
      workers: [worker('gateway'), ...others],
      ...(options.persistDir ? { resourcePersistencePath: options.persistDir } : {}),
      ...(options.listen ? { host: '127.0.0.1', port: 0 } : {}),
    }),
  );
}

/** What a test reads of a gateway answer: status, the error's code and message, and Retry-After. */
export interface GatewayReply {
  status: number;
  code?: string | undefined;
  message?: string | undefined;
  retryAfter: string | null;
}

export async function gatewayReplyOf(res: Response): Promise<GatewayReply> {
  const json = (await res.json()) as { error?: { code: string; message: string } };
  return {
    status: res.status,
    code: json.error?.code,
    message: json.error?.message,
    retryAfter: res.headers.get('retry-after'),
  };
}
