import { parseArgs } from 'node:util';
import { modelAdd } from './model-add.ts';
import { modelBuild } from './model-build.ts';
import { modelEval } from './model-eval.ts';
import { modelInspect } from './model-inspect.ts';
import { nodeModelsLs, nodeModelsPull } from './node-models.ts';
import { nodeStatus } from './node-status.ts';

/** Where `hexedge dev` keeps its models: the default for the model commands. */
const DEV_MODELS_DIR = '.hexedge/models';

export const OPERATOR_USAGE = `  node status        a node's identity, models and, if it runs, its live/ready state and load
                     --data-dir DIR  [--url URL]
  node models ls     the models in a node's models directory, each hash-checked
                     --data-dir DIR  [--models-dir DIR]
  node models pull   pull a model by content id or name@version (peers first, then the gateway)
                     <contentId|name@version> --data-dir DIR [--from URL]… [--gateway URL] [--timeout-ms 15000]
  model build        train the project's models (vibration-anomaly, env-occupancy; fp32 + int8)
                     [--out ${DEV_MODELS_DIR}] [--only NAME] [--seed N]
  model inspect      opset, inputs/outputs, ops, initializer bytes and metadata of an .onnx file
                     FILE.onnx
  model add          add an .onnx file to a models directory (content id, manifest, atomic write)
                     FILE.onnx --name N --version V --task T --license L --source S
                     [--models-dir ${DEV_MODELS_DIR}] [--labels a,b,c] [--pipeline ID] [--description TEXT]
  model eval         held-out accuracy of a project model, fp32 vs int8, per class
                     FILE.onnx|NAME [--models-dir ${DEV_MODELS_DIR}] [--seed N]
`;

const int = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`${flag} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
};

function need<T>(value: T | undefined, message: string): T {
  if (value === undefined || value === '') throw new Error(message);
  return value;
}

/** The operator commands (`node status|models`, `model …`); false when argv is none of them. */
export async function runOperatorCommand(argv: string[], log: (m: string) => void): Promise<boolean> {
  const [command, sub, third] = argv;
  const out = (text: string) => console.log(text);
  if (command === 'node' && sub === 'status') {
    const { values } = parseArgs({ args: argv.slice(2), options: { 'data-dir': { type: 'string' }, url: { type: 'string' } } });
    out(await nodeStatus({ dataDir: need(values['data-dir'], 'node status needs --data-dir'), ...(values.url ? { url: values.url } : {}) }));
    return true;
  }
  if (command === 'node' && sub === 'models' && third === 'ls') {
    const { values } = parseArgs({ args: argv.slice(3), options: { 'data-dir': { type: 'string' }, 'models-dir': { type: 'string' } } });
    const dataDir = need(values['data-dir'], 'node models ls needs --data-dir');
    out(await nodeModelsLs({ dataDir, ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}) }));
    return true;
  }
  if (command === 'node' && sub === 'models' && third === 'pull') {
    const { values, positionals } = parseArgs({
      args: argv.slice(3),
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        'models-dir': { type: 'string' },
        from: { type: 'string', multiple: true },
        gateway: { type: 'string' },
        'timeout-ms': { type: 'string' },
      },
    });
    const timeoutMs = int(values['timeout-ms'], '--timeout-ms');
    out(
      await nodeModelsPull(
        {
          dataDir: need(values['data-dir'], 'node models pull needs --data-dir'),
          ref: need(positionals[0], 'node models pull needs a content id or name@version'),
          peers: values.from ?? [],
          ...(values.gateway ? { gatewayUrl: values.gateway } : {}),
          ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        },
        log,
      ),
    );
    return true;
  }
  if (command !== 'model') return false;
  const rest = argv.slice(2);
  if (sub === 'build') {
    const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, only: { type: 'string' }, seed: { type: 'string' } } });
    const seed = int(values.seed, '--seed');
    out(await modelBuild({ outDir: values.out ?? DEV_MODELS_DIR, ...(values.only ? { only: values.only } : {}), ...(seed !== undefined ? { seed } : {}) }, log));
    return true;
  }
  if (sub === 'inspect') {
    const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
    out(await modelInspect(need(positionals[0], 'model inspect needs a FILE.onnx')));
    return true;
  }
  if (sub === 'add') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: Object.fromEntries(
        ['name', 'version', 'task', 'license', 'source', 'models-dir', 'labels', 'pipeline', 'description'].map((k) => [k, { type: 'string' as const }]),
      ),
    });
    const v = values as Record<string, string | undefined>;
    const flag = (k: string) => need(v[k], `model add needs --${k}`);
    out(
      await modelAdd({
        file: need(positionals[0], 'model add needs a FILE.onnx'),
        name: flag('name'),
        version: flag('version'),
        task: flag('task'),
        license: flag('license'),
        source: flag('source'),
        modelsDir: v['models-dir'] ?? DEV_MODELS_DIR,
        ...(v.labels ? { labels: v.labels.split(',').map((l) => l.trim()) } : {}),
        ...(v.pipeline ? { pipeline: v.pipeline } : {}),
        ...(v.description ? { description: v.description } : {}),
      }),
    );
    return true;
  }
  if (sub === 'eval') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'models-dir': { type: 'string' }, seed: { type: 'string' } } });
    const seed = int(values.seed, '--seed');
    out(
      await modelEval(
        { target: need(positionals[0], 'model eval needs a FILE.onnx or a project model name'), modelsDir: values['models-dir'] ?? DEV_MODELS_DIR, ...(seed !== undefined ? { seed } : {}) },
        log,
      ),
    );
    return true;
  }
  throw new Error(`unknown command: hexedge model ${sub ?? ''} (model build | inspect | add | eval)`);
}
