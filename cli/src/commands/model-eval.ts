import { MANIFEST_FILE_SUFFIX, modelManifestSchema, type ModelManifest } from '@hexedge/edge-node';
import { buildModelArtifacts, DEFAULT_MODEL_SEED, generateHeldOut, predictLabels, PROJECT_MODELS, readModelDir } from '@hexedge/edge-node/node';
import { readFile, stat } from 'node:fs/promises';
import { describeOnnx } from './onnx-info.ts';
import { formatTable, percent } from './text-table.ts';

type Definition = (typeof PROJECT_MODELS)[number];
interface Candidate {
  manifest: Partial<ModelManifest> | undefined;
  label: string;
  bytes: Uint8Array;
}

const projectNames = () => PROJECT_MODELS.map((d) => d.name).join(', ');

/** A file's definition: from the manifest beside it, else by its input's name and shape. */
async function fromFile(file: string): Promise<{ definition: Definition; candidates: Candidate[] }> {
  const bytes = new Uint8Array(await readFile(file));
  const manifestFile = `${file.replace(/\.onnx$/, '')}${MANIFEST_FILE_SUFFIX}`;
  const manifest = await readFile(manifestFile, 'utf8').then((t) => modelManifestSchema.parse(JSON.parse(t)), () => undefined);
  const input = describeOnnx(bytes).inputs[0];
  const definition =
    PROJECT_MODELS.find((d) => d.name === manifest?.name) ??
    PROJECT_MODELS.find((d) => d.inputName === input?.name && input.shape.slice(1).join() === d.inputShape.join());
  if (!definition) throw new Error(`${file} is not one of the project's models (${projectNames()}); model eval needs their held-out data`);
  return { definition, candidates: [{ manifest, label: manifest ? `${manifest.name}@${manifest.version}` : file, bytes }] };
}

/** A name's artifacts: those in the models directory, else a fresh in-memory build with the seed. */
async function fromName(o: { name: string; modelsDir: string; seed: number; log: (m: string) => void }) {
  const definition = PROJECT_MODELS.find((d) => d.name === o.name);
  if (!definition) throw new Error(`no model file or project model named ${JSON.stringify(o.name)} (project models: ${projectNames()})`);
  const held = (await readModelDir(o.modelsDir).catch(() => ({ artifacts: [] }))).artifacts.filter((a) => a.manifest.name === o.name);
  if (held.length > 0) {
    return { definition, candidates: held.map((a) => ({ manifest: a.manifest, label: `${a.manifest.name}@${a.manifest.version}`, bytes: a.bytes })) };
  }
  o.log(`${o.name} is not in ${o.modelsDir}; building it in memory with seed ${o.seed}…`);
  const { artifacts } = await buildModelArtifacts(definition, o.seed);
  return { definition, candidates: artifacts.map((a) => ({ manifest: a.manifest, label: `${a.manifest.name}@${a.manifest.version}`, bytes: a.bytes })) };
}

/**
 * `hexedge model eval`: held-out accuracy of a project model's artifacts (fp32 and int8) as
 * onnxruntime-node scores them, with per-class recall and what each manifest claims beside it.
 */
export async function modelEval(o: { target: string; modelsDir: string; seed?: number }, log: (m: string) => void): Promise<string> {
  const seed = o.seed ?? DEFAULT_MODEL_SEED;
  const isFile = await stat(o.target).then((s) => s.isFile(), () => false);
  const { definition, candidates } = isFile ? await fromFile(o.target) : await fromName({ name: o.target, modelsDir: o.modelsDir, seed, log });
  const heldOut = generateHeldOut(definition, seed);
  const rows: string[][] = [];
  for (const c of candidates) {
    const predicted = await predictLabels(c.bytes, definition, heldOut.inputs);
    const correct = predicted.filter((p, i) => p === heldOut.labels[i]).length;
    const recall = definition.labels.map((_, k) => {
      const of = heldOut.labels.flatMap((l, i) => (l === k ? [i] : []));
      return of.length === 0 ? undefined : of.filter((i) => predicted[i] === k).length / of.length;
    });
    const scheme = c.manifest?.quantization?.scheme ?? 'fp32';
    rows.push([c.label, scheme, String(heldOut.labels.length), percent(correct / heldOut.labels.length), percent(c.manifest?.accuracy?.[scheme]), ...recall.map(percent)]);
  }
  const headers = ['MODEL', 'QUANT', 'EXAMPLES', 'ACCURACY', 'MANIFEST', ...definition.labels.map((l) => `RECALL ${l}`)];
  return `held-out set: ${heldOut.labels.length} examples of ${definition.name}, seed ${seed}\n${formatTable(headers, rows)}`;
}
