import { oracleServiceConfigSchema, type OracleServiceConfig } from '@hexedge/coverage-oracle';
import { fork } from 'node:child_process';
import type { z } from 'zod';
import { createInterface } from 'node:readline';
import { buildOracleDeployable } from '../oracle-deployable.ts';

/** The oracle gets this long to stop (a last trust push, the log export) once told to, before it is killed. */
const STOP_GRACE_MS = 10_000;
const START_TIMEOUT_MS = 60_000;

export interface OracleProcess {
  url: string;
  oracleId: string;
  /** Adds a gateway to read nodes from and push trust to (RunningOracle.addGatewayUrl, over IPC); settles once the oracle read it. */
  addGatewayUrl(url: string): Promise<void>;
  stop(): Promise<void>;
}

/** The oracle's config keys as a config file gives them (cli/examples/oracle.yaml). */
export type OracleConfigInput = z.input<typeof oracleServiceConfigSchema>;

type FromChild = { url: string; oracleId: string } | { error: string };

/**
 * `hexedge dev`'s oracle, in a process of its own (the oracle deployable's builder, as `hexedge oracle`
 * runs it), so the gateway's event loop is the gateway's: the oracle's ingest (a receipt report per
 * answered request, with its signature checks and SQLite commits), scoring and referee re-runs never
 * stall a request. Its log lines come through `log`. The IPC channel is its stop order and its
 * lifeline: `stop` closes it, and if `hexedge dev` dies, it closes too; either way the oracle stops. A
 * signal to the whole process group (Ctrl-C, systemd's or a supervisor's SIGTERM) does not stop it
 * before `hexedge dev` has stopped the gateway, whose last receipt reports it must still take.
 */
export function startOracleProcess(
  config: OracleConfigInput,
  options: { log: (line: string) => void },
): Promise<OracleProcess> {
  // The keys as given (JSON-safe), parsed in the child: the parsed config holds BigInt amounts.
  const child = fork(import.meta.filename, [JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  for (const stream of [child.stdout!, child.stderr!])
    createInterface({ input: stream }).on('line', options.log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the oracle did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the oracle exited with ${code} during start-up (see its lines above)`));
    };
    child.once('exit', onEarlyExit);
    child.once('message', (m: FromChild) => {
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      if ('error' in m) {
        child.kill('SIGKILL');
        return reject(new Error(`the oracle failed to start: ${m.error}`));
      }
      child.once('exit', (code, signal) => {
        if (code !== 0 || signal) options.log(`oracle process exited (${signal ?? `code ${code}`})`);
      });
      resolve({
        url: m.url,
        oracleId: m.oracleId,
        addGatewayUrl: (url) =>
          new Promise<void>((added) => {
            const onReply = (reply: { gatewayAdded?: string }) => {
              if (reply.gatewayAdded !== url) return;
              child.off('message', onReply);
              added();
            };
            child.on('message', onReply);
            child.send({ addGatewayUrl: url });
          }),
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          // Closing the channel is the stop order (the child ignores signals while it is open).
          if (child.connected) child.disconnect();
          else child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

/** The child's side: build the oracle, report where it listens, take gateway URLs, stop on SIGTERM/SIGINT or when the parent goes. */
async function runChild(config: OracleServiceConfig): Promise<void> {
  const stopping = new AbortController();
  const oracle = await buildOracleDeployable(config, {
    signal: stopping.signal,
    log: (line) => console.log(line),
  });
  process.on('message', (m: { addGatewayUrl?: string }) => {
    const url = m.addGatewayUrl;
    if (typeof url === 'string')
      void oracle.addGatewayUrl(url).then(() => process.send?.({ gatewayAdded: url }));
  });
  let stopped = false;
  const stop = (code: number) => {
    if (stopped) return;
    stopped = true;
    stopping.abort();
    void oracle
      .stop()
      .catch((err: Error) => console.error(`oracle: stop failed: ${err.message}`))
      .then(() => process.exit(code));
  };
  // A signal sent to the whole process group (a terminal's Ctrl-C, systemd's default KillMode, a
  // supervisor's SIGTERM to the group) reaches this process as well as `hexedge dev`, which stops the
  // parts in reverse order: the gateway posts its last receipt reports here first, then the channel
  // closes. Stopping at the signal would lose those reports (and the operators' rewards for them).
  const onSignal = (name: string) => {
    if (!process.connected) return stop(0);
    console.log(
      `oracle: ${name}: stopping when hexedge dev stops it, after the gateway's last receipt reports`,
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('disconnect', () => stop(0));
  // A stage fault (an infrastructure failure) stops the oracle, as `hexedge oracle` does.
  oracle.done.catch(() => stop(1));
  process.send!({ url: oracle.url, oracleId: oracle.oracleId });
}

if (process.argv[1] === import.meta.filename && process.send) {
  runChild(oracleServiceConfigSchema.parse(JSON.parse(process.argv[2]!))).catch((err: Error) => {
    process.send!({ error: err.stack ?? err.message }, () => process.exit(1));
  });
}
