import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDev, type DevProcess } from '@hexedge/test-kit';
import {
  forDev,
  mqttExampleBlocks,
  requireMosquittoClients,
  runShell,
  startSub,
  type ExampleCommand,
} from './readme-examples.ts';

/**
 * `hexedge dev --broker aedes`: the fallback where Mosquitto is missing. It says what it lacks, answers
 * the README's MQTT v3.1.1 example as before, and refuses MQTT v5 as it said it would.
 */
const clients = requireMosquittoClients(import.meta.filename);
const API_KEY = 'aedes-fallback-admin-key-9d2';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-dev-aedes-'));
const blocks = mqttExampleBlocks(['README.md']);
const v311Pair = blocks.find(
  (b) =>
    b.commands.some((c) => c.tool === 'mosquitto_pub') &&
    b.commands.every((c) => c.line.includes('-V mqttv311')),
);
const rr = blocks.flatMap((b) => b.commands).find((c) => c.tool === 'mosquitto_rr')!;
let dev: DevProcess;

beforeAll(async () => {
  if (clients.skip) return;
  dev = await startDev([
    '--broker',
    'aedes',
    '--nodes',
    '1',
    '--port',
    '0',
    '--mqtt-port',
    '0',
    '--sim-speed',
    '0',
    '--data-dir',
    dataDir,
    '--api-key',
    API_KEY,
  ]);
}, 120_000);

afterAll(async () => {
  if (dev?.child.exitCode === null) {
    dev.child.kill('SIGTERM');
    await dev.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(clients.skip)('hexedge dev --broker aedes (the fallback without Mosquitto)', () => {
  it('says what the embedded broker lacks, runs no Mosquitto, and prints the MQTT URL on the ready line', () => {
    expect(dev.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const said = dev.lines.find((l) => l.startsWith('hexedge dev mqtt: embedded aedes broker'));
    expect(said).toBeDefined();
    for (const lack of ['MQTT v5', 'Response Topic', 'shared subscriptions', 'persistence'])
      expect(said).toContain(lack);
    expect(dev.lines.some((l) => l.startsWith('[mosquitto]'))).toBe(false);
  });

  it("answers the README's MQTT v3.1.1 request on its response topic", async () => {
    expect(v311Pair, 'README.md has a -V mqttv311 mosquitto_sub/mosquitto_pub block').toBeDefined();
    const [subCommand, pubCommand] = v311Pair!.commands as [ExampleCommand, ExampleCommand];
    const sub = startSub(forDev(subCommand.line, dev.mqttUrl), { apiKey: API_KEY, count: 1, timeoutS: 30 });
    await sub.subscribed;
    const pub = await runShell(forDev(pubCommand.line, dev.mqttUrl), { apiKey: API_KEY, timeoutMs: 15_000 })
      .done;
    expect(pub.code, pub.stderr).toBe(0);
    const { code, messages, granted, stderr } = await sub.messages;
    expect(code, stderr).toBe(0);
    expect(granted).toMatch(/^[01]$/);
    const [, topic, payload] = /^(\S+) (\{.*\})$/.exec(messages[0]!)!;
    const requestId = topic!.split('/').at(-1)!;
    expect(requestId).toMatch(/^v3-\d+$/);
    expect(topic).toBe(`hexedge/v1/res/my-app/${requestId}`);
    const answer = JSON.parse(payload!) as { id: string; error?: unknown; outputs: { data: number[] }[] };
    expect(answer.error).toBeUndefined();
    expect(answer.id).toBe(requestId);
    expect(answer.outputs[0]!.data).toHaveLength(3);
  }, 60_000);

  it("refuses mosquitto_rr -V mqttv5, as the fallback's line says", async () => {
    const { code, stderr } = await runShell(forDev(rr.line, dev.mqttUrl), {
      apiKey: API_KEY,
      timeoutMs: 15_000,
    }).done;
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Unsupported Protocol Version/);
  }, 20_000);
});
