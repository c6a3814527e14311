import { requirePart } from '@hexedge/test-kit';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferRequest } from '../src/index.ts';
import { ADMIN_KEY, HERE, type Fabric } from './fabric.ts';

const here = import.meta.dirname;
const wrangler = path.resolve(here, '../../node_modules/.bin/wrangler');
const chromiumPart = process.env.CHROMIUM_PATH
  ? { skip: false as const, path: process.env.CHROMIUM_PATH }
  : requirePart('chromium', import.meta.filename);

/**
 * The client outside Node: worker/entry.ts bundled by wrangler (the same esbuild pass `wrangler deploy`
 * makes, offline), run by workerd through Miniflare and, the same module, in a headless Chromium page
 * (cross-origin to the gateway, so through its CORS), each calling the live gateway and checking a
 * receipt with that runtime's WebCrypto.
 */
export function runtimeSuite(fabric: () => Fabric) {
  describe('in a Worker (workerd) and in a browser (Chromium)', () => {
    let outdir: string;
    let mf: Miniflare;
    let browser: Browser | undefined;
    const request: InferRequest = {
      model: 'comfort-index',
      location: HERE,
      inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
    };
    const expected = () => ({
      nodeId: fabric().node.nodeId,
      valid: true,
      tampered: 'OUTPUT_DIGEST',
      late: 'DEADLINE_EXCEEDED',
    });
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
      await browser?.close();
      await mf?.dispose();
      if (outdir) rmSync(outdir, { recursive: true, force: true });
    });

    it('workerd: infers, verifies the receipt (and refuses a tampered one) and keeps a deadline', async () => {
      const body = JSON.stringify({ gatewayUrl: fabric().gateway.url, apiKey: ADMIN_KEY, request });
      const res = await mf.dispatchFetch('http://worker/', { method: 'POST', body });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(JSON.parse(text)).toEqual({ ...expected(), runtime: 'workerd' });
    });

    it.skipIf(chromiumPart.skip)('Chromium: the same module, from a page of another origin', async () => {
      browser = await chromium.launch({
        executablePath: chromiumPart.path!,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
        ],
      });
      const page = await browser.newPage();
      // A page of another origin than the gateway's (localhost vs 127.0.0.1): calls cross CORS. It is
      // a secure context (localhost), as WebCrypto's receipt check needs (browsers keep crypto.subtle
      // from plain-http pages).
      const gateway = new URL(fabric().gateway.url);
      await page.goto(`http://localhost:${gateway.port}/healthz`);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const source = readFileSync(path.join(outdir, 'entry.js'), 'utf8');
      const body = JSON.stringify({ gatewayUrl: fabric().gateway.url, apiKey: ADMIN_KEY, request });
      // A string, not a function: vitest would rewrite a function's dynamic import for Node.
      const script = `(async () => {
        const url = URL.createObjectURL(new Blob([${JSON.stringify(source)}], { type: 'text/javascript' }));
        const mod = await import(url);
        const res = await mod.default.fetch(new Request('http://worker/', { method: 'POST', body: ${JSON.stringify(body)} }));
        return { status: res.status, text: await res.text(), origin: location.origin };
      })()`;
      const answer = (await page.evaluate(script)) as { status: number; text: string; origin: string };
      expect(errors).toEqual([]);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.origin).not.toBe(new URL(fabric().gateway.url).origin);
      expect(JSON.parse(answer.text)).toEqual({
        ...expected(),
        runtime: 'browser',
      });
    });
  });
}
