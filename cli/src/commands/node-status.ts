import { describeFetchError } from '@hexedge/edge-node/node';
import { formatHeldModels, listHeldModels } from './models-table.ts';
import { readNodeSetup } from './node-setup.ts';
import { loadNodeKey } from '@hexedge/edge-node/node';
import { formatTable } from './text-table.ts';

/** A local node answers in milliseconds; waiting longer only delays the "not running" verdict. */
const PROBE_TIMEOUT_MS = 2_000;

interface ModelLoad {
  model: string;
  version: string;
  inFlight: number;
  queueDepth: number;
  ok: number;
  errors: number;
}

/** Picks the per-model series out of the node's Prometheus text (metrics.ts names them). */
export function parseModelLoad(metricsText: string): ModelLoad[] {
  const byKey = new Map<string, ModelLoad>();
  const line =
    /^(hexedge_node_in_flight|hexedge_node_queue_depth|hexedge_node_requests_total)\{([^}]*)\} (\S+)$/;
  for (const text of metricsText.split('\n')) {
    const m = line.exec(text);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    const key = `${labels.model}@${labels.version}`;
    let load = byKey.get(key);
    if (!load)
      byKey.set(
        key,
        (load = {
          model: labels.model ?? '?',
          version: labels.version ?? '?',
          inFlight: 0,
          queueDepth: 0,
          ok: 0,
          errors: 0,
        }),
      );
    const value = Number(m[3]);
    if (m[1] === 'hexedge_node_in_flight') load.inFlight = value;
    else if (m[1] === 'hexedge_node_queue_depth') load.queueDepth = value;
    else if (labels.outcome === 'ok') load.ok += value;
    else load.errors += value;
  }
  return [...byKey.values()].sort((a, b) =>
    `${a.model}@${a.version}`.localeCompare(`${b.model}@${b.version}`),
  );
}

/** Where the node's OIP server should be: --url, else the config's host and port. */
function serverUrl(
  url: string | undefined,
  config: { host: string; port: number } | undefined,
): string | undefined {
  if (url) return url;
  if (!config || config.port === 0) return undefined;
  // A wildcard bind is reachable on loopback.
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

async function probe(base: string): Promise<string[]> {
  const get = (p: string) => fetch(new URL(p, base), { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  let live: Response;
  try {
    live = await get('/v2/health/live');
  } catch (err) {
    return [`server     not running: nothing answers at ${base} (${describeFetchError(err)})`];
  }
  if (!live.ok)
    return [`server     ${base} answers ${live.status} to /v2/health/live; is it a HexEdge node?`];
  const ready = await get('/v2/health/ready').then(
    (r) => r.ok,
    () => false,
  );
  const lines = [`server     ${base}: live, ${ready ? 'ready' : 'NOT ready'}`];
  const metrics = await get('/metrics').then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const load = parseModelLoad(metrics);
  if (load.length === 0)
    return [...lines, '  (no per-model metrics: the node serves no model or has no /metrics)'];
  const rows = load.map((l) => [
    l.model,
    l.version,
    String(l.inFlight),
    String(l.queueDepth),
    String(l.ok),
    String(l.errors),
  ]);
  return [
    ...lines,
    indent(formatTable(['MODEL', 'VERSION', 'IN FLIGHT', 'QUEUED', 'REQUESTS OK', 'ERRORS'], rows)),
  ];
}

const indent = (text: string) => text.replace(/^/gm, '  ');

/** `hexedge node status`: identity, claim and models from the data directory, then the live server's state. */
export async function nodeStatus(options: { dataDir: string; url?: string }): Promise<string> {
  const { configFile, config, modelsDir } = await readNodeSetup(options.dataDir);
  if (!config)
    throw new Error(
      `no config at ${configFile}; run \`hexedge node init --data-dir ${options.dataDir} --lat <lat> --lng <lng>\` first`,
    );
  const keys = await loadNodeKey(options.dataDir);
  const held = await listHeldModels(modelsDir);
  const lines = [
    `node       ${keys.nodeId}`,
    `location   ${config.location.lat}, ${config.location.lng} (claimed)`,
    `config     ${configFile}`,
    `gateway    ${config.gatewayUrl}`,
    `models     ${modelsDir}: ${held.filter((h) => h.verified).length} verified of ${held.length}`,
  ];
  if (held.length > 0) lines.push(indent(formatHeldModels(held)));
  const base = serverUrl(options.url, config);
  if (!base)
    lines.push(
      `server     unknown address: ${configFile} says port 0 (any free port); pass --url http://host:port`,
    );
  else lines.push(...(await probe(base)));
  return lines.join('\n');
}
