import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openInspector } from './inspector.ts';

/** V8's sampling interval for the window's profile (its --cpu-prof default). */
const SAMPLING_INTERVAL_US = 1_000;

/**
 * A V8 CPU profile of `hexedge dev` (the gateway's process) over the measured window only, through
 * its inspector (inspector.ts): `--cpu-prof` profiles the whole life (start-up, warm-up, shutdown).
 * `stop()` writes `<dir>/gateway-<pid>.cpuprofile` (read it with bench/src/gateway/profile-gateway.ts's
 * printProfile) and returns the path. The profiler itself costs the process some CPU: a profiled run's
 * CPU figures are not comparable with an unprofiled one's.
 */
export async function startWindowProfile(options: {
  pid: number;
  lines: readonly string[];
  dir: string;
}): Promise<{ stop(): Promise<string> }> {
  const session = await openInspector(options);
  await session.call('Profiler.enable');
  await session.call('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  await session.call('Profiler.start');
  return {
    async stop() {
      try {
        const { profile } = (await session.call('Profiler.stop')) as { profile: unknown };
        mkdirSync(options.dir, { recursive: true });
        const file = path.join(options.dir, `gateway-${options.pid}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        return file;
      } finally {
        session.close();
      }
    },
  };
}
