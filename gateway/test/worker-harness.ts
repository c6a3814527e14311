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

/** workerd (through Miniflare) running the bundle with SQLite-backed shards and directory, as wrangler.jsonc binds them. */
export function startWorker(options: {
  scriptPath: string;
  shardClass?: string;
  persistDir?: string;
  bindings?: Record<string, string>;
}): Miniflare {
  return new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        {
          modules: true,
          scriptPath: options.scriptPath,
        // Module names are relative to this; the bundle sits in a temp dir outside the repository.
        modulesRoot: path.dirname(options.scriptPath),
          compatibilityDate: '2026-11-01',
          durableObjects: {
            SHARDS: { className: options.shardClass ?? 'PlacementShard', useSQLite: true },
            DIRECTORY: { className: 'PlacementDirectory', useSQLite: true },
          },
          bindings: {
            HEARTBEAT_INTERVAL_MS: '60000',
            SHARD_MAP_TTL_MS: '1000',
            ASSUME_LOCATIONS_VERIFIED: 'true', PIN_JURISDICTIONS: '',
            ...options.bindings,
          },
        },
      ],
      ...(options.persistDir ? { resourcePersistencePath: options.persistDir } : {}),
    }),
  );
}
