import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';

const gatewayDir = path.resolve(import.meta.dirname, '../../../gateway');

/** The gateway Worker as `wrangler deploy` would bundle it (offline, --dry-run), run by workerd through Miniflare. */
export async function startGatewayWorker(options: {
  apiKey: string;
  heartbeatIntervalMs: number;
}): Promise<{ url: string; stop: () => Promise<void> }> {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-bench-worker-'));
  execFileSync(
    path.resolve(gatewayDir, '../node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--config', 'wrangler.jsonc', '--outdir', outdir],
    {
      cwd: gatewayDir,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_API_TOKEN: '' },
      stdio: 'pipe',
    },
  );
  const scriptPath = path.join(outdir, 'worker.js');
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        {
          modules: true,
          scriptPath,
          modulesRoot: outdir,
          compatibilityDate: '2026-11-01',
          durableObjects: {
            SHARDS: { className: 'PlacementShard', useSQLite: true },
            DIRECTORY: { className: 'PlacementDirectory', useSQLite: true },
            API_KEYS: { className: 'ApiKeyVault', useSQLite: true },
            KEY_DIRECTORY: { className: 'ApiKeyDirectory', useSQLite: true },
            SOURCE_LIMITS: { className: 'SourceLimits', useSQLite: true },
          },
          bindings: {
            HEXEDGE_API_KEY: options.apiKey,
            HEARTBEAT_INTERVAL_MS: String(options.heartbeatIntervalMs),
            SHARD_MAP_TTL_MS: '1000',
            ASSUME_LOCATIONS_VERIFIED: 'true',
            PIN_JURISDICTIONS: '',
            // Every simulated node registers from loopback: one source, far past a real one's burst.
            REGISTRATION_BURST_PER_SOURCE: '100000',
            HEARTBEATS_PER_SOURCE_PER_SECOND: '100000',
            // ... and so past the probation cap's share for one source in the busiest shard.
            MAX_PROBATION_NODES_PER_SHARD: '1000000',
          },
        },
      ],
      resourcePersistencePath: path.join(outdir, 'state'),
    }),
  );
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return {
    url,
    stop: async () => {
      await mf.dispose();
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
