import { createPullProgress, pullModel, type PullSource } from '@hexedge/edge-node/node';
import { formatHeldModels, listHeldModels } from './models-table.ts';
import { readNodeSetup } from './node-setup.ts';

/** `hexedge node models ls`: what the node would load, each artifact hash-checked. */
export async function nodeModelsLs(options: { dataDir: string; modelsDir?: string }): Promise<string> {
  const { modelsDir } = await readNodeSetup(options.dataDir, options.modelsDir);
  const held = await listHeldModels(modelsDir);
  if (held.length === 0) return `no models in ${modelsDir}; pull one with \`hexedge node models pull <contentId|name@version> --data-dir ${options.dataDir}\``;
  return `${modelsDir}\n${formatHeldModels(held)}`;
}

/**
 * Sources in the order a pull tries them: explicit peers (nearest first, as given), then the origin
 * registry — `--gateway`, else the gateway in the node's config.
 */
export function pullSources(options: { peers: string[]; gatewayUrl: string | undefined }): PullSource[] {
  const sources: PullSource[] = options.peers.map((url) => ({ kind: 'peer', url: checkUrl(url, '--from/--peer') }));
  if (options.gatewayUrl) sources.push({ kind: 'origin', url: checkUrl(options.gatewayUrl, '--gateway') });
  return sources;
}

function checkUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${flag} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${flag} must be an http(s) URL, got ${JSON.stringify(value)}`);
  return value;
}

/** `hexedge node models pull`: one model into the node's models directory, with a progress bar. */
export async function nodeModelsPull(
  options: { dataDir: string; ref: string; peers: string[]; gatewayUrl?: string; modelsDir?: string; timeoutMs?: number },
  log: (m: string) => void,
): Promise<string> {
  const { config, modelsDir } = await readNodeSetup(options.dataDir, options.modelsDir);
  const sources = pullSources({ peers: options.peers, gatewayUrl: options.gatewayUrl ?? config?.gatewayUrl });
  const result = await pullModel({
    ref: options.ref,
    sources,
    modelsDir,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    onProgress: createPullProgress({ stream: process.stdout, log }),
  });
  const m = result.manifest;
  if (!result.source) return `${m.name}@${m.version} (${m.contentId.slice(0, 12)}) is already in ${modelsDir}`;
  return `${m.name}@${m.version} (${m.contentId}) is in ${result.file}`;
}
