import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '@hexedge/gateway';
import { parseConfigText } from '../src/config/load-config.ts';
import { HEXEDGE_BIN } from '@hexedge/test-kit';

const ADMIN = 'gateway-test-admin-key-0123456789';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-gateway-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Starts `hexedge gateway` as an operator would and resolves with its URL once it prints `ready`. */
function startGateway(
  env: Record<string, string | undefined>,
): Promise<{ child: ChildProcess; url: string; output: string[] }> {
  const child = spawn(process.execPath, [HEXEDGE_BIN, 'gateway', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(Object.assign(new Error(`exited with ${code}`), { output, code })));
    for (const s of [child.stdout!, child.stderr!]) {
      createInterface({ input: s }).on('line', (line) => {
        output.push(line);
        const m = /hexedge gateway ready: (\S+)/.exec(line);
        if (m) resolve({ child, url: m[1]!, output });
      });
    }
  });
}

const stopped = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')));

describe('hexedge gateway', () => {
  it('refuses to start without the admin key in the environment', async () => {
    const err = (await startGateway({ HEXEDGE_ADMIN_KEY: undefined }).catch((e: unknown) => e)) as {
      code: number;
      output: string[];
    };
    expect(err.code).toBe(1);
    expect(err.output.join('\n')).toMatch(/set HEXEDGE_ADMIN_KEY/);
  });

  it('keeps API keys and node registrations across a restart, and never logs the admin key', async () => {
    const first = await startGateway({ HEXEDGE_ADMIN_KEY: ADMIN });
    const created = (await (
      await fetch(`${first.url}/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'survivor' }),
      })
    ).json()) as { key: string };
    const node = await generateNodeKeyPair();
    const registration = await signBody(
      'registration',
      {
        nodeId: node.nodeId,
        issuedAtMs: Date.now(),
        // A public address (this test never connects to it): private ones are refused by default.
        url: 'http://93.184.216.34:9',
        location: { lat: 52.37, lng: 4.9 },
        hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
        models: [],
      },
      node.privateKey,
    );
    expect(
      (await fetch(`${first.url}/v1/nodes/register`, { method: 'POST', body: JSON.stringify(registration) }))
        .status,
    ).toBe(200);
    expect(await stopped(first.child)).toBe(0);

    const second = await startGateway({ HEXEDGE_ADMIN_KEY: ADMIN });
    expect(
      (await fetch(`${second.url}/v1/usage`, { headers: { authorization: `Bearer ${created.key}` } })).status,
    ).toBe(200);
    const info = (await (await fetch(`${second.url}/v1/nodes/${node.nodeId}`)).json()) as { id: string };
    expect(info.id).toBe(node.nodeId);
    // The same registration replayed after the restart is still refused: its timestamp is not newer.
    expect(
      (await fetch(`${second.url}/v1/nodes/register`, { method: 'POST', body: JSON.stringify(registration) }))
        .status,
    ).toBe(409);
    expect(await stopped(second.child)).toBe(0);
    expect([...first.output, ...second.output].join('\n')).not.toContain(ADMIN);
  }, 30_000);

  it('ships an example config that parses to the defaults', () => {
    const text = readFileSync(path.join(import.meta.dirname, '../examples/gateway.yaml'), 'utf8');
    const parse = (t: string | undefined, fileName: string) =>
      parseConfigText({ schema: gatewayConfigSchema, ...(t !== undefined ? { text: t } : {}), fileName });
    expect(parse(text, 'gateway.yaml')).toEqual(parse(undefined, 'defaults'));
    expect(() => parse('port: 99999', 'g.yaml')).toThrow(/g\.yaml: port:/);
    expect(() => parse('prot: 1', 'g.yaml')).toThrow(/prot/);
    expect(() => parse('mqtt: {clientId: x}', 'g.yaml')).toThrow(
      /g\.yaml: mqtt\.url: is required unless the gateway hosts the broker/,
    );
    expect(() => parse('embeddedBroker: {}\nmqtt: {fullAccessRequestsAsAdmin: true}', 'g.yaml')).toThrow(
      /g\.yaml: mqtt\.fullAccessRequestsAsAdmin: is for an external broker/,
    );
  });
});
