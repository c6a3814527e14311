import { requirePart, startDev, type DevProcess } from '@hexedge/test-kit';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The ecosystem's own tools judge our conventions, against a running `hexedge dev`: `promtool check
 * metrics` on the gateway's and an edge node's /metrics (after real traffic, so every series exists).
 */
const promtool = requirePart('promtool', import.meta.filename);
const API_KEY = 'ecosystem-test-admin-key-0123';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-ecosystem-'));

let dev: DevProcess;

/** promtool reads the exposition from stdin; any lint problem is a line on stdout/stderr and exit status 3. */
async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(promtool.path!, ['check', 'metrics'], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
    child.stdin!.end(text);
  });
}

beforeAll(async () => {
  if (promtool.skip) return;
  dev = await startDev([
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
    '--sim-speed',
    '0',
  ]);
  const body = {
    model: 'comfort-index',
    location: { lat: 52.37, lng: 4.9 },
    inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
  };
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${dev.gatewayUrl}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  }
  // An error outcome too, so its series exist.
  await fetch(`${dev.gatewayUrl}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: '{}',
  });
}, 180_000);

afterAll(async () => {
  await dev?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(promtool.skip)('the ecosystem’s tools on hexedge dev', () => {
  it("promtool check metrics passes on the gateway's /metrics, which counts requests, inferences, placement, failovers, receipts, receipt reports to the oracle and MQTT in flight", async () => {
    const res = await fetch(`${dev.gatewayUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      'hexedge_gateway_http_requests_total{route="/v1/infer",method="POST",code="200"} 3',
      'hexedge_gateway_inferences_total{model="comfort-index",outcome="ok"} 3',
      'hexedge_gateway_inferences_total{model="",outcome="INVALID_REQUEST"} 1',
      'hexedge_gateway_placement_duration_seconds_count 3',
      'hexedge_gateway_nodes_tried_count 3',
      'hexedge_gateway_failovers_total 0',
      'hexedge_gateway_receipts_checked_total{result="ok"} 3',
      'hexedge_gateway_mqtt_in_flight{ingress="requests"} 0',
      'hexedge_gateway_nodes{status="healthy"} 1',
      'hexedge_gateway_receipt_reports_total{outcome="queued"} 3',
      'hexedge_gateway_receipt_reports_total{outcome="dropped"} 0',
      'hexedge_gateway_receipt_report_posts_failed_total 0',
    ]) {
      expect(text).toContain(name);
    }
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it("promtool check metrics passes with a rollout's series (running, then decided)", async () => {
    const call = (method: string, url: string, body?: unknown) =>
      fetch(`${dev.gatewayUrl}${url}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    const created = await call('POST', '/v1/rollouts', {
      model: 'env-occupancy',
      baseline: '1.0.0',
      candidate: '1.0.0-int8',
      canary: { percent: 100 },
      promotion: { auto: false },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const readings = Array.from({ length: 12 }, () => ({
      temperatureC: 21,
      humidityPct: 45,
      co2Ppm: 800,
      lightLux: 300,
      motionCount: 1,
    }));
    for (let i = 0; i < 3; i++) {
      const res = await call('POST', '/v1/infer', {
        model: 'env-occupancy',
        location: { lat: 52.37, lng: 4.9 },
        input: { readingIntervalS: 300, readings },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { model_version: string }).model_version).toBe('1.0.0-int8');
    }
    let text = await (await fetch(`${dev.gatewayUrl}/metrics`)).text();
    for (const line of [
      `hexedge_gateway_rollout_answers_total{rollout="${id}",model="env-occupancy",version="1.0.0-int8",role="candidate",source="primary",outcome="ok"} 3`,
      `hexedge_gateway_rollout_window_error_ratio{rollout="${id}",model="env-occupancy",role="candidate"} 0`,
      `hexedge_gateway_rollout_window_p95_seconds{rollout="${id}",model="env-occupancy",role="candidate"}`,
      `hexedge_gateway_rollout_comparisons_total{rollout="${id}",model="env-occupancy",result="diverge"} 0`,
      'hexedge_gateway_rollouts{state="running"} 1',
    ])
      expect(text).toContain(line);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });

    expect((await call('POST', `/v1/rollouts/${id}/abort`)).status).toBe(200);
    text = await (await fetch(`${dev.gatewayUrl}/metrics`)).text();
    expect(text).toContain('hexedge_gateway_rollouts{state="rolled-back"} 1');
    expect(text).toMatch(
      /hexedge_gateway_rollout_last_decision_seconds\{model="env-occupancy",decision="rolled-back",decided_by="admin"\} \d/,
    );
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it("promtool check metrics passes on an edge node's /metrics", async () => {
    const { nodes } = (await (await fetch(`${dev.gatewayUrl}/v1/nodes`)).json()) as {
      nodes: Array<{ url: string }>;
    };
    const res = await fetch(`${nodes[0]!.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /hexedge_node_requests_total\{model="comfort-index",version="1",outcome="ok"\} [1-9]/,
    );
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it('promtool tells a bad exposition apart (the check can fail)', async () => {
    const bad = await promtoolCheck(
      '# HELP x_total a gauge with a counter suffix\n# TYPE x_total gauge\nx_total 1\n',
    );
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/non-counter metrics should not have "_total" suffix/);
  });
});
