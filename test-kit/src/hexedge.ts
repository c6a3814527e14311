import path from 'node:path';
import { startProcess, type Proc } from './processes.ts';

/** The `hexedge` command as a user runs it (a path, not an import: the kit depends on no service). */
export const HEXEDGE_BIN = path.resolve(import.meta.dirname, '../../cli/bin/hexedge.js');

/** `hexedge …` under this test's Node (the project's Node 22). */
export function startHexedge(options: {
  args: string[];
  env?: NodeJS.ProcessEnv;
  ready: RegExp;
  timeoutMs?: number;
  name: string;
  cwd?: string;
  detached?: boolean;
}) {
  return startProcess({ ...options, command: process.execPath, args: [HEXEDGE_BIN, ...options.args] });
}

export interface DevProcess extends Proc {
  gatewayUrl: string;
  mqttUrl: string;
  apiKey: string;
  oracleUrl: string;
}

/** Starts `hexedge dev` as a user would and resolves once it has printed its ready, dashboard and oracle lines. */
export async function startDev(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean } = {},
): Promise<DevProcess> {
  const proc = await startHexedge({
    name: 'hexedge dev',
    args: ['dev', ...args],
    ready: /^hexedge dev oracle: (\S+)/,
    timeoutMs: options.timeoutMs ?? 120_000,
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.detached ? { detached: true } : {}),
  });
  const ready = await proc.waitForLine(/ready: gateway (\S+) mqtt (\S+) api-key (\S+)/, 1_000);
  return { ...proc, gatewayUrl: ready[1]!, mqttUrl: ready[2]!, apiKey: ready[3]!, oracleUrl: proc.match[1]! };
}

/**
 * An OpenTelemetry set-up file for `NODE_OPTIONS=--import …`: hexedge processes started with it (and
 * HEXEDGE_OTEL_DIR set) export their spans as JSON lines into that folder, one file per process.
 */
export const OTEL_FILE_EXPORT = path.resolve(import.meta.dirname, 'otel-file-export.mjs');
