/**
 * `hexedge simulate --adversaries` as a user runs it (the real binary): a small network, its rows with
 * their goals on stdout and as JSON under --out; a bad flag refused by name. The goals themselves are
 * asserted at the quick size by simulator/test/adversaries.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HEXEDGE_BIN } from '@hexedge/test-kit';

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hexedge-simulate-adversaries-'));

async function hexedge(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [HEXEDGE_BIN, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('hexedge simulate --adversaries', { timeout: 180_000 }, () => {
  it('prints the goal rows and writes them as JSON', async () => {
    const out = path.join(tmp, 'out');
    const { code, stdout } = await hexedge(
      'simulate',
      '--adversaries',
      '--nodes',
      '400',
      '--hours',
      '1',
      '--requests',
      '1500',
      '--cheaters',
      '20',
      '--out',
      out,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\| honest nodes slashed @400 1h 30% sybils +\| 0\.00 /m);
    expect(stdout).toMatch(
      /^\| verification compute \/ inference compute \(sampling 0\.025, 1 checker\(s\)/m,
    );
    expect(readdirSync(out)).toEqual(['simulate-adversaries-400-1h-seed1.json']);
    const summary = JSON.parse(
      readFileSync(path.join(out, 'simulate-adversaries-400-1h-seed1.json'), 'utf8'),
    ) as {
      options: { nodes: number; share: number };
      verification: { samplingRate: number; checkersPerSample: number };
      rows: Array<{ name: string; goal: string | null }>;
    };
    expect(summary.options).toMatchObject({ nodes: 400, share: 0.3 });
    expect(summary.verification).toMatchObject({ samplingRate: 0.025, checkersPerSample: 1 });
    expect(summary.rows.filter((r) => r.goal !== null).length).toBeGreaterThanOrEqual(8);
  });

  it('runs another oracle configuration from --oracle-config (an oracle.yaml) over the defaults', async () => {
    const out = path.join(tmp, 'other');
    const config = path.join(tmp, 'oracle.yaml');
    // The defaults before issue 16's goal configuration: 5 % sampled × 3 checkers, 10 % audits.
    writeFileSync(
      config,
      [
        'port: 8790',
        'oracle:',
        '  samplingRate: 0.05',
        '  checkersPerSample: 3',
        '  refereeAuditRate: 0.1',
        '',
      ].join('\n'),
    );
    const { code, stdout } = await hexedge(
      'simulate',
      '--adversaries',
      '--nodes',
      '400',
      '--hours',
      '1',
      '--requests',
      '1500',
      '--cheaters',
      '20',
      '--oracle-config',
      config,
      '--out',
      out,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^\| verification compute \/ inference compute \(sampling 0\.05, 3 checker\(s\), audits 0\.1\)/m,
    );
    const summary = JSON.parse(
      readFileSync(path.join(out, 'simulate-adversaries-400-1h-seed1.json'), 'utf8'),
    ) as { verification: { samplingRate: number; checkersPerSample: number; refereeAuditRate: number } };
    expect(summary.verification).toEqual({ samplingRate: 0.05, checkersPerSample: 3, refereeAuditRate: 0.1 });
  });

  it('refuses a bad --oracle-config key by file and key before running', async () => {
    const config = path.join(tmp, 'bad-oracle.yaml');
    writeFileSync(config, 'samplingRate: 1.5\n');
    const { code, stdout, stderr } = await hexedge(
      'simulate',
      '--adversaries',
      '--oracle-config',
      config,
      '--out',
      path.join(tmp, 'never'),
    );
    expect(code).not.toBe(0);
    expect(stderr).toContain(`--oracle-config ${config}:`);
    expect(stderr).toContain('samplingRate');
    expect(stdout).not.toContain('adversary simulation:');
  });

  it('refuses a bad flag value by name', async () => {
    const { code, stderr } = await hexedge(
      'simulate',
      '--adversaries',
      '--share',
      '1.5',
      '--out',
      path.join(tmp, 'never'),
    );
    expect(code).not.toBe(0);
    expect(stderr).toContain('--share must be a positive number ≤ 0.9, got "1.5"');
  });
});
