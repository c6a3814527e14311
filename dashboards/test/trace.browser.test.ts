import type { Browser, Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDev, type DevProcess } from '@hexedge/test-kit';
import { chromiumPart, launchChromium, openPage, shot } from './browser.ts';

// The developer view's per-hop timings for a request id, against a real `hexedge dev` (one edge-node
// process) in Debian's headless Chromium.
const API_KEY = 'dashboards-trace-key-0123';
const TRACE_ID = '5bf92f3577b34da6a3ce929d0e0e4736';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-dashboards-trace-'));
let dev: DevProcess;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (chromiumPart.skip) return;
  [dev, browser] = await Promise.all([
    startDev([
      '--nodes',
      '1',
      '--port',
      '0',
      '--mqtt-port',
      '0',
      '--data-dir',
      dataDir,
      '--api-key',
      API_KEY,
      '--heartbeat-ms',
      '1000',
    ]),
    launchChromium(),
  ]);
  page = await openPage(browser, pageErrors);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (dev?.child.exitCode === null) dev.child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(chromiumPart.skip)('developer view: one request’s hops', () => {
  it('shows the per-hop timings of a request id, in the trace the caller sent', async () => {
    const res = await fetch(`${dev.gatewayUrl}/v1/infer`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({
        id: 'dash-trace-1',
        model: 'comfort-index',
        location: { lat: 52.3676, lng: 4.9041 },
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
      }),
    });
    expect(res.status).toBe(200);
    await page.goto(`${dev.gatewayUrl}/dashboard/#/developer`);
    await page.getByRole('textbox', { name: 'API key' }).fill(API_KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByTestId('developer-view').waitFor();
    // An unknown id says so.
    await page.getByRole('textbox', { name: 'Request id' }).fill('nobody-sent-this');
    await page.getByRole('button', { name: 'Show hops' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'No recent request "nobody-sent-this" of this key.' })
      .waitFor();
    await page.getByRole('textbox', { name: 'Request id' }).fill('dash-trace-1');
    await page.getByRole('button', { name: 'Show hops' }).click();
    const hops = page.getByTestId('trace-hops');
    await hops.waitFor();
    const rows = await hops.locator('tbody tr td:first-child').allTextContents();
    expect(rows).toEqual(
      expect.arrayContaining([
        'Gateway (whole request)',
        'Placement',
        'Node round trip',
        'Node queue',
        'Model run',
        'Receipt check',
      ]),
    );
    expect(await page.getByTestId('request-trace').textContent()).toContain(TRACE_ID);
    // Each hop has a bar on the request's time axis.
    expect(await hops.locator('.bar').count()).toBe(rows.length);
    await shot(page, 'developer-trace');
    expect(pageErrors).toEqual([]);
  });
});
