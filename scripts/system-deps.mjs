#!/usr/bin/env node
// The system packages HexEdge's real parts need, installed from the npm lifecycle so the README's two
// command lines are the whole set-up on a fresh Debian or Ubuntu machine:
//
//   node scripts/system-deps.mjs start   (npm's prestart)  Mosquitto (+ its clients), so `hexedge dev` speaks MQTT v5
//   node scripts/system-deps.mjs test    (npm's pretest)   everything the tests run against
//   node scripts/system-deps.mjs bench   (npm's prebench)  the benchmark peers (redis-server)
//
// Idempotent: it asks dpkg what is installed and runs apt-get only for what is missing (one
// `apt-get update`, then `apt-get install -y --no-install-recommends …`). It says what it does and why.
// Not root: it prints the exact command to run and, for `test` and `bench`, stops (exit 1) — a run
// without its real parts would only fail later, less clearly — unless HEXEDGE_SKIP_REAL_PARTS names
// what is missing. For `start` it goes on: `hexedge dev` falls back to its embedded broker and says so.
// Plain JavaScript on purpose: it runs before anything is built, under whatever Node npm uses.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package → why, and which real part (HEXEDGE_SKIP_REAL_PARTS name) it serves. */
const PACKAGES = {
  mosquitto: { why: 'the MQTT v5 broker hexedge dev runs and the MQTT tests use', part: 'mosquitto' },
  'mosquitto-clients': {
    why: 'mosquitto_rr / mosquitto_pub / mosquitto_sub, which drive the README MQTT examples in the tests',
    part: 'mosquitto',
  },
  chromium: {
    why: "the dashboards' browser tests (headless Chromium driven by playwright-core)",
    part: 'chromium',
  },
  prometheus: {
    why: 'promtool, which checks the /metrics of the gateway and the edge node',
    part: 'promtool',
  },
  iproute2: { why: 'ip netns + TAP devices for the multi-host tests', part: 'netns' },
  python3: { why: "the multi-host tests' delaying L2 switch (standard library only)", part: 'netns' },
  procps: { why: 'ps and chrt, used by the process tests', part: 'netns' },
  'redis-server': { why: "the placement benchmark's GEOSEARCH peer", part: 'redis' },
};
const SETS = {
  // The clients too: the README's MQTT examples against `hexedge dev` are mosquitto_rr/_pub/_sub lines.
  start: ['mosquitto', 'mosquitto-clients'],
  test: ['mosquitto', 'mosquitto-clients', 'chromium', 'prometheus', 'iproute2', 'python3', 'procps'],
  bench: ['redis-server', 'mosquitto'],
};

const mode = process.argv[2] ?? 'test';
const wanted = SETS[mode];
if (!wanted) {
  console.error(`system-deps: unknown set ${JSON.stringify(mode)}; one of ${Object.keys(SETS).join(', ')}`);
  process.exit(2);
}
const say = (line) => console.log(`hexedge system-deps (${mode}): ${line}`);

if (process.platform !== 'linux' || !existsSync('/usr/bin/dpkg-query')) {
  say(
    `not a Debian/Ubuntu machine (no dpkg); install yourself: ${wanted.join(', ')} — see README "Running the tests"`,
  );
  process.exit(0);
}

const installed = (pkg) => {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
};
const missing = wanted.filter((pkg) => !installed(pkg));
if (missing.length === 0) process.exit(0);

const skipped = new Set(
  (process.env.HEXEDGE_SKIP_REAL_PARTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const needed = missing.filter((pkg) => !skipped.has(PACKAGES[pkg].part));
for (const pkg of missing)
  say(
    `${pkg} is missing: ${PACKAGES[pkg].why}${needed.includes(pkg) ? '' : ' (skipped: HEXEDGE_SKIP_REAL_PARTS)'}`,
  );
if (needed.length === 0) process.exit(0);

const command = `apt-get update && apt-get install -y --no-install-recommends ${needed.join(' ')}`;
if (process.getuid?.() !== 0) {
  say(`not root, so not installing. Run:\n\n    sudo sh -c '${command}'\n`);
  if (mode === 'start') {
    say(
      'starting anyway: hexedge dev falls back to its embedded MQTT 3.1.1 broker (no v5, no shared subscriptions)',
    );
    process.exit(0);
  }
  say(
    `or opt out on purpose with HEXEDGE_SKIP_REAL_PARTS=${[...new Set(needed.map((p) => PACKAGES[p].part))].join(',')} (those tests then skip, and the run says so)`,
  );
  process.exit(1);
}

say(`installing ${needed.join(', ')} with apt-get (once; later runs find them installed)`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// Another apt-get may hold dpkg's lock (two `npm` lines started at once on a fresh machine, e.g. `npm
// test` and `npm run bench`, or the system's own unattended upgrades): wait for it instead of failing.
const APT_LOCK_WAIT_S = 600;
const lockWait = ['-o', `DPkg::Lock::Timeout=${APT_LOCK_WAIT_S}`];
try {
  execFileSync('apt-get', [...lockWait, 'update', '-q'], { stdio: 'inherit', env });
  execFileSync('apt-get', [...lockWait, 'install', '-y', '-q', '--no-install-recommends', ...needed], {
    stdio: 'inherit',
    env,
  });
} catch (err) {
  say(`apt-get failed (${err.message}); run it yourself: ${command}`);
  process.exit(1);
}
// Debian starts the packaged services; HexEdge runs its own instances on its own ports, so the
// system-wide ones are stopped (best effort: containers have no init system) to keep their ports free.
for (const service of ['mosquitto', 'redis-server', 'prometheus']) {
  if (needed.includes(service === 'redis-server' ? 'redis-server' : service))
    spawnSync('service', [service, 'stop'], { stdio: 'ignore' });
}
say('done');
