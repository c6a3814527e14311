/**
 * `hexedge simulate --adversaries [--quick] [--share 0.3] [--nodes N] [--hours H] [--seed S]
 * [--requests R] [--cheaters C] [--oracle-config FILE] [--out DIR]`: issue 16's adversary simulation (@hexedge/simulator's
 * adversary mode): a share of the identities are sybils running the attacks, against the oracle's,
 * placement's and the gateway's own decision code; the same run without them; and 1 % cheater
 * detection measured with the oracle's sampling. Prints the rows and writes them as JSON to --out.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseOracleConfig } from '@hexedge/coverage-oracle';
import { adversaryRows, formatTable, machineInfo, scaleLabel, simulateAdversaries } from '@hexedge/simulator';

export const SIMULATE_ADVERSARIES_USAGE = `  simulate --adversaries   issue 16's sybils (30 %) against the real trust, standing, stake, spot-check,
             placement and reward code, next to the same run without them
             --quick (2000 nodes)  --share 0.3  --nodes 100000  --hours 2  --seed 1
             --requests (sampled; default nodes × hours / 5)  --cheaters 2000  --out ./hexedge-simulate
             --oracle-config FILE (an oracle.yaml, or its oracle: keys alone, over the oracle's defaults)
`;

export const ADVERSARY_FULL = { nodes: 100_000, hours: 2, cheaters: 2000 };
export const ADVERSARY_QUICK = { nodes: 2000, hours: 2, cheaters: 200, requests: 8000 };

function number(
  v: string | undefined,
  flag: string,
  fallback: number,
  o: { integer: boolean; max?: number },
): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (
    v.trim() === '' ||
    !Number.isFinite(n) ||
    n <= 0 ||
    (o.max !== undefined && n > o.max) ||
    (o.integer && !Number.isInteger(n))
  )
    throw new Error(
      `${flag} must be a positive ${o.integer ? 'integer' : 'number'}${o.max !== undefined ? ` ≤ ${o.max}` : ''}, got ${JSON.stringify(v)}`,
    );
  return n;
}

/**
 * The oracle keys of --oracle-config: an oracle.yaml's `oracle:` section, or a file of those keys
 * alone. Checked here, so a bad key fails before the run and names the file. Without the flag the run
 * uses the oracle's defaults, which are issue 16's goal configuration.
 */
function readOracleKeys(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    throw new Error(`--oracle-config ${file}: ${(err as Error).message}`);
  }
  const isMapping = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMapping(raw)) throw new Error(`--oracle-config ${file}: must be a mapping of keys`);
  const keys = isMapping(raw.oracle) ? raw.oracle : raw;
  try {
    parseOracleConfig(keys);
  } catch (err) {
    throw new Error(`--oracle-config ${file}: ${(err as Error).message}`);
  }
  return keys;
}

export async function simulateAdversariesCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      adversaries: { type: 'boolean' },
      quick: { type: 'boolean' },
      share: { type: 'string' },
      nodes: { type: 'string' },
      hours: { type: 'string' },
      seed: { type: 'string' },
      requests: { type: 'string' },
      cheaters: { type: 'string' },
      'oracle-config': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const size = values.quick ? ADVERSARY_QUICK : ADVERSARY_FULL;
  const nodes = number(values.nodes, '--nodes', size.nodes, { integer: true });
  const hours = number(values.hours, '--hours', size.hours, { integer: true });
  const share = number(values.share, '--share', 0.3, { integer: false, max: 0.9 });
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed))
    throw new Error(`--seed must be an integer, got ${JSON.stringify(values.seed)}`);
  const sampledRequests = number(
    values.requests,
    '--requests',
    values.quick ? ADVERSARY_QUICK.requests : Math.round((nodes * hours) / 5),
    { integer: true },
  );
  const detectionCheaters = number(values.cheaters, '--cheaters', size.cheaters, { integer: true });
  const out = path.resolve(values.out ?? 'hexedge-simulate');
  const oracleKeys =
    values['oracle-config'] === undefined ? undefined : readOracleKeys(values['oracle-config']);
  log(
    `adversary simulation: ${nodes} identities (${Math.round(share * 100)} % sybils) for ${hours} h, then the same run without them (seed ${seed}, ${sampledRequests} sampled requests)…`,
  );
  const started = performance.now();
  const report = await simulateAdversaries({
    nodes,
    hours,
    seed,
    sampledRequests,
    share,
    detectionCheaters,
    ...(oracleKeys ? { adversary: { oracleConfig: oracleKeys } } : {}),
    onProgress: ({ simulatedMs, requests }) => {
      if (process.stderr.isTTY)
        process.stderr.write(`\r  ${(simulatedMs / 3_600_000).toFixed(2)} h simulated, ${requests} requests`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const rows = adversaryRows(report);
  log(formatTable(rows));
  log(`${((performance.now() - started) / 1000).toFixed(0)} s in all`);
  mkdirSync(out, { recursive: true });
  const json = path.join(out, `simulate-adversaries-${scaleLabel(nodes)}-${hours}h-seed${seed}.json`);
  const m = report.adversarial.adversary!.metrics;
  const hourly = m.hourly.map((h, i) => ({
    hour: i + 1,
    ...h,
    bySybilRole: Object.fromEntries(h.bySybilRole),
  }));
  const oracleConfig = report.adversarial.adversary!.oracle.config;
  const verification = {
    samplingRate: oracleConfig.samplingRate,
    checkersPerSample: oracleConfig.checkersPerSample,
    refereeAuditRate: oracleConfig.refereeAuditRate,
  };
  writeFileSync(
    json,
    JSON.stringify(
      {
        suite: 'simulate-adversaries',
        machine: machineInfo(),
        options: report.options,
        verification,
        rows,
        hourly,
      },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${json}`);
}
