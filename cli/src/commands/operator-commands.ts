import type { Command } from '../command.ts';
import { numberFlag, parseFlags, required } from '../flags.ts';
import { modelAdd } from './model-add.ts';
import { modelBuild } from './model-build.ts';
import { modelEval } from './model-eval.ts';
import { modelInspect } from './model-inspect.ts';
import { nodeModelsLs, nodeModelsPull } from './node-models.ts';
import { nodeStatus } from './node-status.ts';

/** Where `hexedge dev` keeps its models: the default for the model commands. */
const DEV_MODELS_DIR = '.hexedge/models';
const wholeNumber = (v: string | undefined, flag: string) => numberFlag(v, flag, { integer: true, min: 0 });

/** The operator commands (`node status|models`, `model …`). */
export const operatorCommands: Command[] = [
  {
    name: ['node', 'status'],
    usage: `  node status        a node's identity, models and, if it runs, its live/ready state and load
                     --data-dir DIR  [--url URL]
`,
    async run(args, io) {
      const { values } = parseFlags(args, { 'data-dir': { type: 'string' }, url: { type: 'string' } });
      io.out(
        await nodeStatus({
          dataDir: required(values['data-dir'], 'node status needs --data-dir'),
          ...(values.url ? { url: values.url } : {}),
        }),
      );
    },
  },
  {
    name: ['node', 'models', 'ls'],
    usage: `  node models ls     the models in a node's models directory, each hash-checked
                     --data-dir DIR  [--models-dir DIR]
`,
    async run(args, io) {
      const { values } = parseFlags(args, {
        'data-dir': { type: 'string' },
        'models-dir': { type: 'string' },
      });
      const dataDir = required(values['data-dir'], 'node models ls needs --data-dir');
      io.out(
        await nodeModelsLs({ dataDir, ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}) }),
      );
    },
  },
  {
    name: ['node', 'models', 'pull'],
    usage: `  node models pull   pull a model by content id or name@version (peers first, then the gateway)
                     <contentId|name@version> --data-dir DIR [--from URL]… [--gateway URL] [--timeout-ms 15000]
`,
    async run(args, io) {
      const { values, positionals } = parseFlags(
        args,
        {
          'data-dir': { type: 'string' },
          'models-dir': { type: 'string' },
          from: { type: 'string', multiple: true },
          gateway: { type: 'string' },
          'timeout-ms': { type: 'string' },
        },
        { positionals: true },
      );
      const timeoutMs = wholeNumber(values['timeout-ms'], '--timeout-ms');
      io.out(
        await nodeModelsPull(
          {
            dataDir: required(values['data-dir'], 'node models pull needs --data-dir'),
            ref: required(positionals[0], 'node models pull needs a content id or name@version'),
            peers: values.from ?? [],
            ...(values.gateway ? { gatewayUrl: values.gateway } : {}),
            ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}),
            ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          },
          io.log,
        ),
      );
    },
  },
  {
    name: ['model', 'build'],
    usage: `  model build        train the project's models (vibration-anomaly, env-occupancy; fp32 + int8)
                     [--out ${DEV_MODELS_DIR}] [--only NAME] [--seed N]
`,
    async run(args, io) {
      const { values } = parseFlags(args, {
        out: { type: 'string' },
        only: { type: 'string' },
        seed: { type: 'string' },
      });
      const seed = wholeNumber(values.seed, '--seed');
      io.out(
        await modelBuild(
          {
            outDir: values.out ?? DEV_MODELS_DIR,
            ...(values.only ? { only: values.only } : {}),
            ...(seed !== undefined ? { seed } : {}),
          },
          io.log,
        ),
      );
    },
  },
  {
    name: ['model', 'inspect'],
    usage: `  model inspect      opset, inputs/outputs, ops, initializer bytes and metadata of an .onnx file
                     FILE.onnx
`,
    async run(args, io) {
      const { positionals } = parseFlags(args, {}, { positionals: true });
      io.out(await modelInspect(required(positionals[0], 'model inspect needs a FILE.onnx')));
    },
  },
  {
    name: ['model', 'add'],
    usage: `  model add          add an .onnx file to a models directory (content id, manifest, atomic write)
                     FILE.onnx --name N --version V --task T --license L --source S
                     [--models-dir ${DEV_MODELS_DIR}] [--labels a,b,c] [--pipeline ID] [--description TEXT]
`,
    async run(args, io) {
      const keys = [
        'name',
        'version',
        'task',
        'license',
        'source',
        'models-dir',
        'labels',
        'pipeline',
        'description',
      ] as const;
      const { values, positionals } = parseFlags(
        args,
        Object.fromEntries(keys.map((k) => [k, { type: 'string' as const }])),
        { positionals: true },
      );
      const v = values as Record<string, string | undefined>;
      const flag = (k: string) => required(v[k], `model add needs --${k}`);
      io.out(
        await modelAdd({
          file: required(positionals[0], 'model add needs a FILE.onnx'),
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
    },
  },
  {
    name: ['model', 'eval'],
    usage: `  model eval         held-out accuracy of a project model, fp32 vs int8, per class
                     FILE.onnx|NAME [--models-dir ${DEV_MODELS_DIR}] [--seed N]
`,
    async run(args, io) {
      const { values, positionals } = parseFlags(
        args,
        { 'models-dir': { type: 'string' }, seed: { type: 'string' } },
        { positionals: true },
      );
      const seed = wholeNumber(values.seed, '--seed');
      io.out(
        await modelEval(
          {
            target: required(positionals[0], 'model eval needs a FILE.onnx or a project model name'),
            modelsDir: values['models-dir'] ?? DEV_MODELS_DIR,
            ...(seed !== undefined ? { seed } : {}),
          },
          io.log,
        ),
      );
    },
  },
];
