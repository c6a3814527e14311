import { getPipeline, modelManifestSchema, type ModelManifest, type TensorSpec } from '@hexedge/edge-node';
import { formatBytes, writeModel } from '@hexedge/edge-node/node';
import { sha256Hex } from '@hexedge/protocol';
import { readFile } from 'node:fs/promises';
import { listHeldModels } from './models-table.ts';
import { describeOnnx, type OnnxValueInfo } from './onnx-info.ts';

export interface ModelAddOptions {
  file: string;
  name: string;
  version: string;
  task: string;
  license: string;
  source: string;
  modelsDir: string;
  description?: string;
  labels?: string[];
  pipeline?: string;
}

/** Ops that only appear in quantized graphs (QDQ or integer kernels). */
const INT8_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearMatMul', 'QLinearConv', 'MatMulInteger', 'ConvInteger']);

function tensorSpecs(values: OnnxValueInfo[], what: string): TensorSpec[] {
  return values.map((v) => {
    if (!v.datatype) throw new Error(`${what} '${v.name}' has element type ${v.elemType}, which the Open Inference Protocol cannot carry`);
    return { name: v.name, datatype: v.datatype as TensorSpec['datatype'], shape: v.shape.map((d) => (typeof d === 'number' ? d : -1)) };
  });
}

/**
 * `hexedge model add`: turns an ONNX file into a model of the store — content id from its bytes,
 * inputs/outputs from its ModelProto — and writes manifest and artifact atomically. A name@version
 * is immutable once added: the same bytes again are a no-op, other bytes are refused, because peers
 * and receipts already know that name@version by its content id.
 */
export async function modelAdd(o: ModelAddOptions): Promise<string> {
  const bytes = new Uint8Array(
    await readFile(o.file).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT' ? `no such file: ${o.file}` : `cannot read ${o.file}: ${err.message}`);
    }),
  );
  let info;
  try {
    info = describeOnnx(bytes);
  } catch (err) {
    throw new Error(`${o.file}: ${(err as Error).message}`);
  }
  if (o.pipeline && !getPipeline(o.pipeline)) throw new Error(`--pipeline ${JSON.stringify(o.pipeline)} is not a pipeline this node knows`);
  const inputs = tensorSpecs(info.inputs, 'input');
  const outputs = tensorSpecs(info.outputs, 'output');
  // Dynamic batching joins requests along dim 0, so every tensor must have a free leading dimension.
  const batchable = [...inputs, ...outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
  const int8 = info.opCounts.some(([op]) => INT8_OPS.has(op.replace(/^com\.microsoft\./, '')));
  const parsed = modelManifestSchema.safeParse({
    name: o.name,
    version: o.version,
    task: o.task,
    description: o.description ?? info.docString.slice(0, 2000),
    contentId: await sha256Hex(bytes),
    sizeBytes: bytes.byteLength,
    inputs,
    outputs,
    batchable,
    ...(o.pipeline ? { pipeline: o.pipeline } : {}),
    ...(o.labels ? { labels: o.labels } : {}),
    quantization: { scheme: int8 ? 'int8' : 'fp32' },
    license: o.license,
    source: o.source,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`--${String(issue.path[0])}: ${issue.message}`);
  }
  const manifest: ModelManifest = parsed.data;
  const existing = (await listHeldModels(o.modelsDir)).find((h) => h.manifest?.name === o.name && h.manifest.version === o.version);
  if (existing?.manifest?.contentId === manifest.contentId) {
    return `${o.name}@${o.version} is already in ${o.modelsDir} with the same bytes (${manifest.contentId})`;
  }
  if (existing) {
    throw new Error(
      `${o.name}@${o.version} already exists in ${o.modelsDir} with other bytes (${existing.manifest?.contentId ?? 'unreadable manifest'}); ` +
        'a version names one artifact forever: pick a new --version',
    );
  }
  const written = await writeModel({ dir: o.modelsDir, manifest, bytes });
  return [
    `added ${o.name}@${o.version} → ${written}`,
    `  content id  ${manifest.contentId}`,
    `  size        ${formatBytes(manifest.sizeBytes)}`,
    `  inputs      ${inputs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ')}`,
    `  outputs     ${outputs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ')}`,
    `  batchable   ${batchable ? 'yes' : 'no (dim 0 is not dynamic everywhere)'}`,
    `  quantized   ${manifest.quantization.scheme}`,
  ].join('\n');
}
