import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferRequest } from '../src/index.ts';
import { ADMIN_KEY, HERE, type Fabric } from './fabric.ts';

const here = import.meta.dirname;
const wrangler = path.resolve(here, '../../node_modules/.bin/wrangler');

/**
 * The client in a Worker: worker/entry.ts bundled by wrangler (the same esbuild pass `wrangler deploy`
 * makes, offline) and run by workerd through Miniflare, calling the live gateway and checking a
 * receipt with workerd's WebCrypto.
 */
export function workerSuite(fabric: () => Fabric) {
  describe('in a Worker (workerd)', () => {
    let outdir: string;
    let mf: Miniflare;
    beforeAll(() => {
      outdir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-client-worker-'));
      execFileSync(
        wrangler,
        ['deploy', '--dry-run', '--config', path.join(here, 'worker/wrangler.jsonc'), '--outdir', outdir],
        {
          cwd: path.join(here, 'worker'),
          env: {
            ...process.env,
            WRANGLER_SEND_METRICS: 'false',
            CLOUDFLARE_API_TOKEN: '',
            NO_UPDATE_NOTIFIER: '1',
          },
          stdio: 'pipe',
        },
      );
      mf = new Miniflare(
        convertV4MiniflareOptions({
          workers: [
            {
              name: 'client',
              modules: true,
              scriptPath: path.join(outdir, 'entry.js'),
              modulesRoot: outdir,
              compatibilityDate: '2026-11-01',
            },
          ],
        }),
      );
    }, 60_000);
    afterAll(async () => {
      await mf?.dispose();
      if (outdir) rmSync(outdir, { recursive: true, force: true });
    });

    it('infers, verifies the receipt (and refuses a tampered one) and keeps a deadline', async () => {
      const request: InferRequest = {
        model: 'comfort-index',
        location: HERE,
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
      };
      const res = await mf.dispatchFetch('http://worker/', {
        method: 'POST',
        body: JSON.stringify({ gatewayUrl: fabric().gateway.url, apiKey: ADMIN_KEY, request }),
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(JSON.parse(text)).toEqual({
        nodeId: fabric().node.nodeId,
        valid: true,
        tampered: 'OUTPUT_DIGEST',
        late: 'DEADLINE_EXCEEDED',
        runtime: 'Cloudflare-Workers',
      });
    });
  });
}
