import { execFile } from 'node:child_process';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { HEXEDGE_BIN, startHexedge } from './hexedge.ts';
import type { Proc } from './processes.ts';

/**
 * The deployables as an operator starts them: `hexedge oracle|gateway|node run` from config files
 * (written as JSON, which is YAML), secrets in the environment. Each resolves on the command's own
 * ready line. Nothing here reaches into a service's code.
 */
const run = promisify(execFile);

/** Runs a short `hexedge` command (`node init`, `broker acl`, …) and returns its output; fails with it. */
export async function hexedge(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [HEXEDGE_BIN, ...args], {
    env: options.env ?? process.env,
  }).catch((err: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(
      `hexedge ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
  });
  return stdout + stderr;
}

export async function writeConfig(file: string, config: Record<string, unknown>): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

export interface OracleProcess extends Proc {
  url: string;
  oracleId: string;
}

export async function startOracleProcess(options: {
  configFile: string;
  config: Record<string, unknown>;
  name?: string;
  netns?: string;
}): Promise<OracleProcess> {
  await writeConfig(options.configFile, options.config);
  const proc = await startHexedge({
    name: options.name ?? 'hexedge oracle',
    args: ['oracle', '--config', options.configFile],
    ready: /^oracle: oracle (\S+) on (\S+)|^oracle (\S+) on (\S+)/,
  });
  const [, id1, url1, id2, url2] = proc.match;
  return { ...proc, oracleId: (id1 ?? id2)!, url: (url1 ?? url2)! };
}

export interface GatewayProcess extends Proc {
  url: string;
  reporterId: string;
}

export async function startGatewayProcess(options: {
  configFile: string;
  config: Record<string, unknown>;
  adminKey: string;
  mqttPassword?: string;
  name?: string;
  timeoutMs?: number;
}): Promise<GatewayProcess> {
  await writeConfig(options.configFile, options.config);
  const proc = await startHexedge({
    name: options.name ?? 'hexedge gateway',
    args: ['gateway', '--config', options.configFile],
    env: {
      ...process.env,
      HEXEDGE_ADMIN_KEY: options.adminKey,
      ...(options.mqttPassword ? { HEXEDGE_MQTT_PASSWORD: options.mqttPassword } : {}),
    },
    ready: /hexedge gateway ready: (\S+).* reporter (\S+)/,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  return { ...proc, url: proc.match[1]!, reporterId: proc.match[2]! };
}

/** `hexedge node init`, then extra node.yaml keys (YAML lines) appended, as an operator edits the file. */
export async function initNode(options: {
  dataDir: string;
  lat: number;
  lng: number;
  gatewayUrl: string;
  extraYaml?: string[];
}): Promise<string> {
  const out = await hexedge([
    'node',
    'init',
    '--data-dir',
    options.dataDir,
    '--lat',
    String(options.lat),
    '--lng',
    String(options.lng),
    '--gateway',
    options.gatewayUrl,
  ]);
  const nodeId = /node (\S+) initialised/.exec(out)?.[1];
  if (!nodeId) throw new Error(`hexedge node init printed no node id:\n${out}`);
  if (options.extraYaml?.length)
    await appendFile(path.join(options.dataDir, 'node.yaml'), `\n${options.extraYaml.join('\n')}\n`);
  return nodeId;
}

export interface NodeProcess extends Proc {
  url: string;
  nodeId: string;
}

/** `hexedge node run`; resolves once the node says it registered with its gateway. */
export async function startNodeProcess(options: {
  dataDir: string;
  args?: string[];
  name?: string;
  timeoutMs?: number;
}): Promise<NodeProcess> {
  const proc = await startHexedge({
    name: options.name ?? `node ${path.basename(options.dataDir)}`,
    args: ['node', 'run', '--data-dir', options.dataDir, ...(options.args ?? [])],
    ready: /^registered with gateway \S+ as (\S+)/,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  const serving = await proc.waitForLine(/serving OIP v2 on (\S+) as node (\S+)/, 1_000);
  return { ...proc, url: serving[1]!, nodeId: proc.match[1]! };
}
