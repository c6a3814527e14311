import { describe, expect, it } from 'vitest';
import { DEMO_DEVICES, demoFleetFile, DeviceRegistry, DeviceSimulator, ROOM_INTERVAL_MS, type BridgeInferRequest, type InferAnswer } from '../src/index.ts';
import { newBridge } from './helpers.ts';

/** Answers like the edge node's pipelines, after checking the domain input the way they do. */
function pipelineAnswer(r: BridgeInferRequest): InferAnswer {
  const input = r.input as Record<string, unknown> | undefined;
  if (r.model === 'env-occupancy') {
    const readings = input!.readings as Record<string, number>[];
    expect(input!.readingIntervalS).toBe(300);
    expect(readings).toHaveLength(12);
    for (const reading of readings) expect(Object.keys(reading).sort()).toEqual(['co2Ppm', 'humidityPct', 'lightLux', 'motionCount', 'temperatureC']);
    const stuffy = readings.at(-1)!.co2Ppm > 1100;
    return { output: { label: stuffy ? 'occupied-poorly-ventilated' : 'occupied-ventilated', confidence: 0.9, probabilities: {} }, node: { id: 'n1' } };
  }
  if (r.model === 'vibration-anomaly') {
    const axes = input!.accelerationG as Record<string, number[]>;
    expect(input!.sampleRateHz).toBe(3200);
    for (const axis of ['x', 'y', 'z']) expect(axes[axis]).toHaveLength(512);
    const peakG = Math.max(...axes.x!.map(Math.abs));
    return { output: { label: peakG > 0.3 ? 'imbalance' : 'normal', confidence: 0.8, probabilities: {} }, node: { id: 'n1' } };
  }
  expect(r.inputs![0]!.shape).toEqual([1, 3]);
  return { outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.8, 0.1, 0.1] }], node: { id: 'n1' } };
}

describe('DeviceSimulator through the bridge', () => {
  it('plays an hour of the demo fleet: LPP windows fill and infer, vibration bursts assemble and infer', async () => {
    const registry = new DeviceRegistry();
    expect(registry.loadFleet(demoFleetFile())).toEqual({ profiles: 3, devices: 4 });
    const evidence: unknown[] = [];
    const t = newBridge({ registry, answer: pipelineAnswer, onCoverageEvidence: (e) => evidence.push(e) });
    const startMs = Date.parse('2025-03-01T08:00:00Z');
    const sim = new DeviceSimulator({ startMs, seed: 7 });
    const messages = sim.advanceTo(startMs + 11 * ROOM_INTERVAL_MS);
    // 12 room rounds × 3 rooms + 6 captures (one per 10 min) × 16 fragments.
    expect(messages).toHaveLength(12 * 3 + 6 * 16);
    for (const m of messages) {
      const outcome = await t.bridge.handleMessage(m.topic, m.payload);
      expect(outcome.status, JSON.stringify(outcome)).toBe('result');
    }
    expect(t.bridge.stats.errors).toEqual({});
    const byDevice = (devEui: string) => t.on(`hexedge/v1/results/demo/${devEui}`).map((p) => t.json(p));

    const fixed = byDevice(DEMO_DEVICES.roomFixed);
    expect(fixed.slice(0, 11).every((r) => (r.inference as { status: string }).status === 'buffering')).toBe(true);
    expect(fixed[11]).toMatchObject({ location: { method: 'fixed' }, inference: { status: 'ok', label: 'occupied-ventilated', classIndex: 1 }, downlink: { status: 'sent', fPort: 10, dataHex: '015a' } });
    expect(byDevice(DEMO_DEVICES.roomGateways)[11]).toMatchObject({ location: { method: 'gateways' }, inference: { label: 'occupied-poorly-ventilated' }, downlink: { dataHex: '025a' } });

    const comfort = byDevice(DEMO_DEVICES.roomComfortGps);
    expect(comfort).toHaveLength(12);
    expect(comfort[0]).toMatchObject({ location: { method: 'gps' }, inference: { status: 'ok', label: 'comfortable' }, downlink: { encoding: 'probabilities', dataHex: 'cc1a1a' } });
    expect(evidence).toHaveLength(12);

    const pump = byDevice(DEMO_DEVICES.vibration);
    expect(pump.filter((r) => (r.inference as { status: string }).status === 'ok').map((r) => (r.inference as { label: string }).label)).toEqual(['normal', 'imbalance', 'normal', 'imbalance', 'normal', 'imbalance']);
    expect(pump[15]).toMatchObject({ downlink: { status: 'sent', confirmed: true, fPort: 11, limitBasis: 'eu868 DR5' } });
  });

  it('is deterministic for a seed', () => {
    const a = new DeviceSimulator({ startMs: 0, seed: 3 }).advanceTo(600_000);
    const b = new DeviceSimulator({ startMs: 0, seed: 3 }).advanceTo(600_000);
    expect(a.map((m) => new TextDecoder().decode(m.payload))).toEqual(b.map((m) => new TextDecoder().decode(m.payload)));
  });
});
