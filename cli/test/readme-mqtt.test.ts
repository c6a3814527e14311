import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { descendantsOf, HEXEDGE_BIN, isAlive, startDev, waitUntil, type DevProcess } from '@hexedge/test-kit';
import {
  forDev,
  mqttExampleBlocks,
  requireMosquittoClients,
  runShell,
  startSub,
  type ExampleCommand,
} from './readme-examples.ts';

/**
 * The READMEs' MQTT examples, extracted from their fenced blocks and run as a reader would paste them
 * (only the MQTT port is filled in, `$API_KEY` set) with Mosquitto's own clients against a real
 * `hexedge dev`, which runs Mosquitto: MQTT v5 request/response with the correlation data echoed.
 */
const clients = requireMosquittoClients(import.meta.filename);
const API_KEY = 'readme-mqtt-admin-key-5c1e';
const DEVICE_PASSWORD = 'readme-device-pw-81b2';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-readme-mqtt-'));
const blocks = mqttExampleBlocks();
const all = blocks.flatMap((b) => b.commands);
const rrCommands = all.filter((c) => c.tool === 'mosquitto_rr');
const pairs = blocks.filter((b) => b.commands.some((c) => c.tool === 'mosquitto_pub'));
const watches = blocks.filter((b) => b.commands.every((c) => c.tool === 'mosquitto_sub'));
let dev: DevProcess;

beforeAll(async () => {
  if (clients.skip) return;
  // A device in the gateway's devices.json before the start, as `hexedge broker device add` puts it.
  execFileSync(process.execPath, [
    HEXEDGE_BIN,
    'broker',
    'device',
    'add',
    'sensor-9',
    '--password',
    DEVICE_PASSWORD,
    '--devices',
    path.join(dataDir, 'gateway', 'devices.json'),
  ]);
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
  ]);
}, 120_000);

afterAll(() => {
  if (dev?.child.exitCode === null) dev.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** The prefix a README line gives its correlation data or request id: "rr" in `"rr-$(date +%s)"`, "v3" in `…/v3-$(date +%s)"`. */
const idPrefix = (line: string) => /["/]([a-z0-9]+)-\$\(date \+%s\)"/.exec(line)?.[1];
const nowS = () => Math.floor(Date.now() / 1000);
/** An id the shell made from the line's `"prefix-$(date +%s)"`, within the last minute. */
const expectFreshId = (id: string, command: ExampleCommand) => {
  const m = new RegExp(`^${idPrefix(command.line)}-(\\d+)$`).exec(id);
  expect(m, `${id} is not ${idPrefix(command.line)}-<seconds>`).not.toBeNull();
  expect(nowS() - Number(m![1])).toBeLessThan(60);
};
const expectAnswer = (payload: string, id: string) => {
  const answer = JSON.parse(payload) as { id: string; error?: unknown; outputs: { data: number[] }[] };
  expect(answer.error).toBeUndefined();
  expect(answer.id).toBe(id);
  expect(answer.outputs[0]!.data).toHaveLength(3); // comfort-index: one probability per class
};

describe.skipIf(clients.skip)("the READMEs' MQTT examples, run against hexedge dev's Mosquitto", () => {
  it('finds them: mosquitto_rr (both READMEs), v5 and v3.1.1 pub/sub pairs, the LoRaWAN watch', () => {
    expect(rrCommands.length).toBeGreaterThanOrEqual(2);
    expect(new Set(rrCommands.map((c) => blocks.find((b) => b.commands.includes(c))!.file))).toEqual(
      new Set(['README.md', 'cli/README.md']),
    );
    for (const c of rrCommands) expect(c.line).toMatch(/-V mqttv5 .*-D publish correlation-data /);
    expect(pairs.map((b) => b.commands.map((c) => c.tool))).toEqual([
      ['mosquitto_sub', 'mosquitto_pub'],
      ['mosquitto_sub', 'mosquitto_pub'],
    ]);
    expect(pairs.map((b) => /-V (mqttv\S+)/.exec(b.commands[1]!.line)?.[1])).toEqual(['mqttv5', 'mqttv311']);
    expect(watches.flatMap((b) => b.commands)).toHaveLength(2);
  });

  it('runs Mosquitto (says so, its lines prefixed) and prints the MQTT URL on the ready line', () => {
    expect(dev.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(dev.lines.some((l) => /^hexedge dev mqtt: Mosquitto \S+ \(MQTT v5/.test(l))).toBe(true);
    expect(dev.lines.some((l) => l.startsWith('[mosquitto] mosquitto version'))).toBe(true);
    expect(dev.lines.some((l) => l.includes('aedes'))).toBe(false);
  });

  it.each(rrCommands.map((c) => [c.line.slice(0, 60), c] as const))(
    'mosquitto_rr %s… gets its answer, the correlation data echoed',
    async (_name, command) => {
      const { code, stdout, stderr } = await runShell(forDev(command.line, dev.mqttUrl), {
        apiKey: API_KEY,
        timeoutMs: 30_000,
      }).done;
      expect(code, stderr).toBe(0);
      // The README's output format is '%D %p': the correlation data, then the answer.
      expect(stdout).toHaveLength(1);
      const [, correlation, payload] = /^(\S+) (\{.*\})$/.exec(stdout[0]!)!;
      expectFreshId(correlation!, command);
      expectAnswer(payload!, correlation!);
    },
    40_000,
  );

  it.each(pairs.map((b) => [/-V (mqttv\S+)/.exec(b.commands[1]!.line)![1]!, b] as const))(
    'the %s mosquitto_sub / mosquitto_pub pair: the subscriber receives the answer to the request',
    async (_version, block) => {
      const [subCommand, pubCommand] = block.commands as [ExampleCommand, ExampleCommand];
      const sub = startSub(forDev(subCommand.line, dev.mqttUrl), { apiKey: API_KEY, count: 1, timeoutS: 30 });
      await sub.subscribed;
      const pub = await runShell(forDev(pubCommand.line, dev.mqttUrl), { apiKey: API_KEY, timeoutMs: 15_000 })
        .done;
      expect(pub.code, pub.stderr).toBe(0);
      const { code, messages, granted, stderr } = await sub.messages;
      expect(code, stderr).toBe(0);
      expect(granted).toMatch(/^[01]$/); // not 128 (refused)
      expect(messages).toHaveLength(1);
      if (/-F '%t %D %p'/.test(subCommand.line)) {
        // v5: on the request's Response Topic, with its correlation data.
        const [, topic, correlation, payload] = /^(\S+) (\S+) (\{.*\})$/.exec(messages[0]!)!;
        expect(topic).toBe(/-D publish response-topic (\S+)/.exec(pubCommand.line)![1]);
        expectFreshId(correlation!, pubCommand);
        expectAnswer(payload!, correlation!);
      } else {
        // v3.1.1 (`-v`): on hexedge/v1/res/{clientId}/{requestId}, the request id from the request topic.
        const [, topic, payload] = /^(\S+) (\{.*\})$/.exec(messages[0]!)!;
        const requestId = topic!.split('/').at(-1)!;
        expect(topic).toBe(`hexedge/v1/res/my-app/${requestId}`);
        expectFreshId(requestId, pubCommand);
        expectAnswer(payload!, requestId);
      }
    },
    60_000,
  );

  it("the LoRaWAN loop's watch commands receive the demo fleet's results and downlinks", async () => {
    const runs = watches
      .flatMap((b) => b.commands)
      .map((c) => ({
        c,
        sub: startSub(forDev(c.line, dev.mqttUrl), { apiKey: API_KEY, count: 1, timeoutS: 45 }),
      }));
    for (const { c, sub } of runs) {
      const { code, messages, stderr } = await sub.messages;
      expect(code, `${c.line}: ${stderr}`).toBe(0);
      expect(messages).toHaveLength(1);
      const [, topic, payload] = /^(\S+) (\{.*\})$/.exec(messages[0]!)!;
      const body = JSON.parse(payload!) as Record<string, unknown>;
      if (c.line.includes('hexedge/v1/results/demo/+')) {
        expect(topic).toMatch(/^hexedge\/v1\/results\/demo\/[0-9a-f]{16}$/);
        expect(body).toMatchObject({ kind: 'result', fleet: 'demo' });
      } else {
        expect(topic).toMatch(/^application\/[0-9a-f-]+\/device\/[0-9a-f]{16}\/command\/down$/);
        expect(body).toHaveProperty('devEui');
        expect(body).toHaveProperty('data');
      }
    }
  }, 60_000);

  it("logs a device in from the gateway's devices.json, and lets it publish under no other client id (which the gateway would serve as the admin key)", async () => {
    const device = await mqtt.connectAsync(dev.mqttUrl, {
      clientId: 'sensor-9',
      username: 'sensor-9',
      password: DEVICE_PASSWORD,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    try {
      const body = JSON.stringify({
        location: { lat: 50.11, lng: 8.68 },
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
      });
      const answered = new Promise<string>((resolve) =>
        device.on('message', (_t, p) => resolve(p.toString())),
      );
      await device.subscribeAsync('hexedge/v1/res/sensor-9/#', { qos: 1 });
      await device.publishAsync('hexedge/v1/infer/sensor-9/comfort-index', body, {
        qos: 1,
        properties: { responseTopic: 'hexedge/v1/res/sensor-9/a', correlationData: Buffer.from('d-1') },
      });
      expect(JSON.parse(await answered)).toMatchObject({ id: 'd-1', model_name: 'comfort-index' });
      // Refused by the broker with a negative PUBACK (0x87 not authorized): the ingress never sees it.
      await expect(
        device.publishAsync('hexedge/v1/infer/my-app/comfort-index', body, {
          qos: 1,
          properties: { responseTopic: 'hexedge/v1/res/my-app/x', correlationData: Buffer.from('d-2') },
        }),
      ).rejects.toMatchObject({ code: 0x87 });
    } finally {
      await device.endAsync();
    }
    await expect(
      mqtt.connectAsync(dev.mqttUrl, {
        clientId: 'sensor-9',
        username: 'sensor-9',
        password: `${DEVICE_PASSWORD}x`,
        protocolVersion: 5,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
  }, 30_000);

  it('stops Mosquitto after the gateway on SIGTERM: sessions saved, no process left', async () => {
    const pids = descendantsOf(dev.child.pid!);
    const brokerPid = pids.find((p) => /mosquitto\0-c\0/.test(readCmdline(p)));
    expect(brokerPid).toBeDefined();
    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
    const at = (pattern: RegExp) => dev.lines.findIndex((l) => pattern.test(l));
    const gatewayGone = at(/^\[mosquitto\] Client hexedge-dev-gateway (disconnected|closed its connection)/);
    const brokerGone = at(/^\[mosquitto\] mosquitto version \S+ terminating/);
    expect(gatewayGone).toBeGreaterThan(-1);
    expect(brokerGone).toBeGreaterThan(gatewayGone);
    expect(existsSync(path.join(dataDir, 'mosquitto', 'mosquitto.db'))).toBe(true);
    await waitUntil('every process of hexedge dev to be gone', () => !pids.some(isAlive), {
      timeoutMs: 10_000,
    });
  }, 30_000);
});

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
