import { optedOut, recordSkip } from '@hexedge/test-kit';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProbeReport } from './ipv6-sources.probe.ts';

const PROBE = path.join(import.meta.dirname, 'ipv6-sources.probe.ts');
const skip = optedOut('netns');
if (skip)
  recordSkip({
    part: 'netns',
    reason: 'HEXEDGE_SKIP_REAL_PARTS=netns: the IPv6 source test needs its own network namespace',
    testFile: import.meta.filename,
  });

/**
 * The attack over real sockets: a node-registration flood from many addresses of one IPv6 /64, then
 * from many /64s of one /48, then from IPv4 with forged proxy headers, then fresh signed identities
 * from one /48 until the probation cap is full, then from fresh /48s, which share it fairly. The probe runs the real gateway builder in a user and
 * network namespace of its own (`unshare -rn`), where loopback can hold those addresses.
 */
describe.skipIf(skip)('node registrations over real IPv6 and IPv4 sockets', () => {
  it('counts a /64 as one source, a /48 as a looser one, ::ffff:127.0.0.1 as 127.0.0.1, ignores proxy headers, and caps probation fairly between sources', () => {
    const run = spawnSync('unshare', ['-rn', process.execPath, PROBE], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    const line = run.stdout?.split('\n').find((l) => l.startsWith('PROBE '));
    if (!line)
      throw new Error(
        `the probe did not report (unshare -rn needs unprivileged user namespaces or root; set HEXEDGE_SKIP_REAL_PARTS=netns to skip on purpose): exit ${run.status ?? run.signal}, ${run.error?.message ?? ''}\n${run.stderr}`,
      );
    const report = JSON.parse(line.slice('PROBE '.length)) as ProbeReport;
    const statuses = (answers: { status: number }[]) => answers.map((a) => a.status);

    // Ten addresses of one /64: its burst (4) and no more.
    expect(statuses(report.one64)).toEqual([...Array(4).fill(400), ...Array(6).fill(429)]);
    expect(report.one64[4]!.message).toContain('from 2001:db8:a:1::/64 ');
    // Twelve fresh /64s of the same /48: the /48's burst (8) holds, 4 of it already spent above.
    expect(statuses(report.rotating64s)).toEqual([...Array(4).fill(400), ...Array(8).fill(429)]);
    expect(report.rotating64s[4]!.message).toContain('from 2001:db8:a::/48 ');
    // Another /48 is not held up by that flood.
    expect(report.other48.status).toBe(400);

    // IPv4 through a dual-stack socket (seen as ::ffff:127.0.0.1) is named as 127.0.0.1, and no
    // X-Forwarded-For, Forwarded, CF-Connecting-IP or X-Real-IP buys a fresh bucket.
    expect(statuses(report.ipv4)).toEqual([400, 400, 400, 400, 429, 429]);
    expect(report.ipv4[4]!.message).toContain('from 127.0.0.1 ');
    expect(report.ipv4[4]!.message).not.toContain('ffff');
    expect(report.loopback6.status).toBe(400);

    // One /48 fills the probation cap (3) with fresh identities; its fourth is refused.
    expect(statuses(report.flood)).toEqual([200, 200, 200, 503]);
    // Fresh identities, each from a fresh /48: rate limits never bind. The first two take the flood's
    // slots (it holds more than they would), then every source holds one and the cap refuses.
    expect(statuses(report.freshIdentities)).toEqual([200, 200, 503, 503, 503]);
    expect(report.freshIdentities[3]).toMatchObject({ code: 'OVERLOADED' });
    expect(report.freshIdentities[3]!.message).toContain('maxProbationNodes 3');
  }, 90_000);
});
