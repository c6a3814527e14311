import type { StoredKeyPair } from '@hexedge/protocol';
import { latLngToCell } from 'h3-js';
import type { Browser, Page } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDev, type DevProcess } from '@hexedge/test-kit';
import { chromiumPart, launchChromium, openPage, shot } from './browser.ts';

// The dashboards against a real `hexedge dev` (3 edge-node processes) in Debian's headless Chromium.
const API_KEY = 'dashboards-e2e-key-0123';
const CITIES = {
  amsterdam: { lat: 52.3676, lng: 4.9041 },
  frankfurt: { lat: 50.1109, lng: 8.6821 },
  paris: { lat: 48.8566, lng: 2.3522 },
};
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-dashboards-'));
let dev: DevProcess;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const offsiteRequests: string[] = [];

const nodeIdOf = (city: string) =>
  (JSON.parse(readFileSync(path.join(dataDir, 'nodes', city, 'node-key.json'), 'utf8')) as StoredKeyPair)
    .nodeId;
const dashboard = (hash: string) => `${dev.gatewayUrl}/dashboard/${hash}`;

async function infer(location: { lat: number; lng: number }) {
  const res = await fetch(`${dev.gatewayUrl}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'comfort-index',
      location,
      inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
    }),
  });
  expect(res.status).toBe(200);
}

async function enterKey(key: string) {
  await page.getByRole('textbox', { name: 'API key' }).fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
}

beforeAll(async () => {
  if (chromiumPart.skip) return;
  [dev, browser] = await Promise.all([
    startDev([
      '--nodes',
      '3',
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
});

beforeEach(async () => {
  if (chromiumPart.skip) return;
  page = await openPage(browser, pageErrors);
  // Every asset is bundled: the page must not reach for anything but its gateway.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(dev.gatewayUrl) || url.startsWith('data:')) return route.continue();
    offsiteRequests.push(url);
    return route.abort();
  });
});

afterEach(async () => {
  await page?.close();
  expect(pageErrors).toEqual([]);
  expect(offsiteRequests).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  if (dev?.child.exitCode === null) dev.child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(chromiumPart.skip)('dashboards in Chromium against hexedge dev', () => {
  it('prints the dashboard URL after the ready line and serves the page there', async () => {
    const line = dev.lines.find((l) => l.startsWith('hexedge dev dashboard:'));
    expect(line).toBe(`hexedge dev dashboard: ${dev.gatewayUrl}/dashboard/`);
    expect((await fetch(`${dev.gatewayUrl}/dashboard/`)).headers.get('content-type')).toMatch(/text\/html/);
  });

  it('draws a hex where each node is, painted at that spot, and a click lists the hex’s nodes', async () => {
    await page.goto(dashboard('#/map'));
    // Settled: the hexes on screen are those of the resolution the view asks for.
    await page.waitForSelector('svg[data-testid="network-map"][aria-busy="false"] path.hex');
    const mapRes = async () => Number(await page.getByTestId('map-res').getAttribute('data-res'));
    const res = await mapRes();
    for (const [city, at] of Object.entries(CITIES)) {
      const cell = latLngToCell(at.lat, at.lng, res);
      const hex = page.locator(`path.hex[data-cell="${cell}"]`);
      await expect.poll(() => hex.getAttribute('data-nodes'), { timeout: 10_000 }).toBe('1');
      // Hit-testing the hex's centre on screen proves it is drawn there, not just present in the DOM.
      const box = (await hex.boundingBox())!;
      const hit = await page.evaluate(
        ([x, y]) => document.elementFromPoint(x!, y!)?.getAttribute('data-cell'),
        [box.x + box.width / 2, box.y + box.height / 2],
      );
      expect(hit, `${city}'s hex is painted at its place`).toBe(cell);
    }
    await shot(page, 'map');

    const frankfurt = latLngToCell(CITIES.frankfurt.lat, CITIES.frankfurt.lng, res);
    await page.locator(`path.hex[data-cell="${frankfurt}"]`).click();
    const row = page.getByTestId('hex-panel').locator(`tr[data-node="${nodeIdOf('frankfurt')}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('healthy');
    await shot(page, 'map-hex-clicked');

    // Colour switch: trust has no oracle scores yet, so the hexes show "unscored", not a made-up value.
    await page.getByRole('radio', { name: 'Trust' }).click();
    await expect
      .poll(() => page.locator('.legend').textContent(), { timeout: 10_000 })
      .toContain('unscored (probation)');
    // Zooming in follows with finer hexes.
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(mapRes, { timeout: 10_000 }).toBeGreaterThan(res);
  });

  it('shows a node to its operator: status, live heartbeats, models, and trust/oracle as they stand', async () => {
    const id = nodeIdOf('amsterdam');
    await page.goto(dashboard(`#/node/${id}`));
    const view = page.getByTestId('operator-view');
    await view.waitFor();
    expect(await view.locator('.badge').first().textContent()).toBe('healthy');
    expect(await view.textContent()).toContain('comfort-index@1');
    // hexedge dev runs the oracle: the oracle sections read from it (no "no oracle" placeholder), and
    // trust is either still probation or a score the oracle pushed — never an invented number.
    expect(await page.getByTestId('trust').textContent()).toMatch(/^(On probation|0\.\d+|1\.0+|\d+ ?%)$/);
    const text = await view.textContent();
    expect(text).not.toContain('No coverage oracle reports to this gateway yet');
    expect(text).toMatch(/Spot checks/);
    // The network's proof-of-sampling condition, in the oracle's numbers.
    expect(await page.getByTestId('posp-holds').textContent()).toBe('Cheating does not pay');
    expect(text).toMatch(/sampling rate × slash ≥ gain per request/);
    // Heartbeats arrive live (every second) and the load chart starts drawing.
    await page.locator('figure.chart canvas').first().waitFor({ timeout: 10_000 });
    await shot(page, 'operator');
  });

  it('shows a developer their usage, updated live after an inference, and latency by region', async () => {
    await page.goto(dashboard('#/developer'));
    await enterKey(API_KEY);
    const view = page.getByTestId('developer-view');
    await view.waitFor();
    await infer({ lat: 50.05, lng: 8.57 });
    await page.getByTestId('live-requests').locator('li', { hasText: 'comfort-index ok' }).first().waitFor();
    await page.getByTestId('regions').locator('td', { hasText: /^DE$/ }).waitFor();
    expect(await view.textContent()).toMatch(/Requests today\s*\d+ \//);
    await shot(page, 'developer');
  });

  it('shows a fleet’s devices live: the simulator’s uplinks, decoded, answered and sent down, and a relayed result appears without reload', async () => {
    await page.goto(dashboard('#/fleet'));
    await enterKey(API_KEY);
    const view = page.getByTestId('fleet-view');
    await view.waitFor();
    // `hexedge dev` runs the firmware bridge and a demo fleet simulator: its comfort sensor's uplink is
    // decoded (LPP), answered by a node and sent back down, live, without a reload.
    const simulated = page
      .getByTestId('devices')
      .locator('tr', { hasText: /sent [0-9a-f]+ on port 10/ })
      .first();
    await simulated.waitFor({ timeout: 20_000 });
    expect(await simulated.textContent()).toMatch(/temperature.*(comfortable|too_warm|stuffy) \(\d+%\)/);
    await shot(page, 'fleet-simulated');
    // The bridge's ResultMessage, posted as a bridge in another process posts it (admin key).
    const result = {
      kind: 'result',
      fleet: 'demo',
      devEui: '70b3d57ed0000001',
      source: 'chirpstack',
      fCnt: 7,
      fPort: 2,
      time: new Date().toISOString(),
      decoded: { temperature: 31, humidity: 60, co2: 650 },
      decodeWarnings: [],
      location: { lat: 52.3731, lng: 4.8922, method: 'profile' },
      inference: {
        status: 'ok',
        requestId: 'fb-1',
        model: 'comfort-index',
        label: 'too_warm',
        confidence: 0.99,
        node: { id: nodeIdOf('amsterdam') },
        receipt: { body: { serviceTimeMs: 3.2 } },
      },
      downlink: {
        status: 'sent',
        topic: 'application/app/device/70b3d57ed0000001/command/down',
        fPort: 10,
        confirmed: false,
        encoding: 'label-index',
        dataHex: '01',
        dataBase64: 'AQ==',
        payloadBytes: 1,
        delivery: 'next-uplink-rx-windows',
      },
    };
    const posted = await fetch(`${dev.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'fleet.result', data: result }),
    });
    expect(posted.status).toBe(202);
    const row = page.getByTestId('devices').locator('tr[data-dev-eui="70b3d57ed0000001"]');
    await row.waitFor();
    expect(await row.textContent()).toMatch(/too_warm.*sent 01 on port 10/);
    await shot(page, 'fleet-live');
  });

  it('shows a model rollout live: both versions side by side, mirrored comparisons, and an abort from the panel', async () => {
    const admin = (method: string, url: string, body?: unknown) =>
      fetch(`${dev.gatewayUrl}${url}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    // hexedge dev's nodes serve env-occupancy in fp32 and int8: roll the int8 build out as a canary,
    // every request mirrored, judged but never decided by itself (this test decides).
    const created = await admin('POST', '/v1/rollouts', {
      model: 'env-occupancy',
      baseline: '1.0.0',
      candidate: '1.0.0-int8',
      canary: { percent: 50 },
      shadow: { percent: 100 },
      thresholds: { maxDivergenceRate: 1, maxErrorRate: 1, maxP95Ratio: 100 },
      promotion: { auto: false },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const room = Array.from({ length: 12 }, (_, i) => ({ temperatureC: 21 + i * 0.1, humidityPct: 45, co2Ppm: 600 + i * 40, lightLux: 300, motionCount: i % 3 }));
    for (let i = 0; i < 6; i++) {
      const res = await admin('POST', '/v1/infer', { model: 'env-occupancy', location: CITIES.paris, input: { readingIntervalS: 300, readings: room } });
      expect(res.status).toBe(200);
    }
    await page.goto(dashboard('#/rollouts'));
    await enterKey(API_KEY);
    const card = page.locator(`[data-testid="running-rollout"][data-rollout="${id}"]`);
    await card.waitFor();
    // The numbers are the gateway's: answers and mirrored comparisons appear as the panel refreshes.
    await expect.poll(async () => Number((await card.getByTestId('rollout-compared').textContent())?.split(' ')[0]), { timeout: 10_000 }).toBeGreaterThanOrEqual(6);
    expect(await card.locator('tr[data-role="candidate"]').textContent()).toContain('1.0.0-int8');
    expect(await card.getByTestId('rollout-verdict').textContent()).toMatch(/automatic promotion is off/);
    await shot(page, 'rollouts-running');
    await card.getByRole('button', { name: /^Abort/ }).click();
    const finished = page.getByTestId('finished-rollouts').locator(`tr[data-rollout="${id}"]`);
    await finished.waitFor();
    expect(await finished.textContent()).toMatch(/rolled-back.*by an admin.*aborted from the dashboard/);
    expect(await page.getByTestId('version-policies').textContent()).toMatch(/env-occupancy\s*1\.0\.0\s*1\.0\.0-int8/);
    await shot(page, 'rollouts-finished');
  });

  it('refuses a keyed view without its key, and with a wrong one, and its streams without a key', async () => {
    await page.goto(dashboard('#/developer'));
    await page.getByRole('heading', { name: 'The developer view needs an API key' }).waitFor();
    expect(await page.getByTestId('developer-view').count()).toBe(0);
    await enterKey('not-a-real-key');
    await page.getByRole('alert').filter({ hasText: 'Refused by the gateway' }).waitFor();
    await shot(page, 'developer-refused');
    for (const p of ['/v1/events/fleet', '/v1/events/developer', '/v1/fleet/events', '/v1/usage/detail', '/v1/rollouts']) {
      expect((await fetch(`${dev.gatewayUrl}${p}`)).status, p).toBe(401);
    }
  });
});
