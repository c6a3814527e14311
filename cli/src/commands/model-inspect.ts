import { sha256Hex } from '@hexedge/protocol';
import { formatBytes } from '@hexedge/edge-node/node';
import { readFile } from 'node:fs/promises';
import { describeOnnx, type OnnxValueInfo } from './onnx-info.ts';
import { formatTable } from './text-table.ts';

const shapeText = (shape: OnnxValueInfo['shape']) => `[${shape.join(', ')}]`;
const valueRows = (values: OnnxValueInfo[]) => values.map((v) => [v.name, v.datatype ?? `(${v.elemType})`, shapeText(v.shape)]);
const indent = (text: string) => text.replace(/^/gm, '  ');

/** `hexedge model inspect FILE.onnx`: what a model file holds, read from its ModelProto. */
export async function modelInspect(file: string): Promise<string> {
  const bytes = new Uint8Array(
    await readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${err.message}`);
    }),
  );
  let info;
  try {
    info = describeOnnx(bytes);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const lines = [
    `file          ${file}`,
    `size          ${formatBytes(bytes.byteLength)} (${bytes.byteLength} bytes)`,
    `content id    ${await sha256Hex(bytes)}`,
    `ir version    ${info.irVersion}`,
    `opset         ${info.opsets.map((o) => `${o.domain} ${o.version}`).join(', ') || '-'}`,
    `producer      ${info.producer}`,
    `graph         ${info.graphName || '-'}`,
    'inputs',
    indent(formatTable(['NAME', 'TYPE', 'SHAPE'], valueRows(info.inputs))),
    'outputs',
    indent(formatTable(['NAME', 'TYPE', 'SHAPE'], valueRows(info.outputs))),
    `nodes         ${info.nodeCount}${info.subgraphNodeCount > 0 ? ` (+ ${info.subgraphNodeCount} in subgraphs, counted below)` : ''}`,
    indent(formatTable(['OP', 'COUNT'], info.opCounts.map(([op, n]) => [op, String(n)]))),
    `initializers  ${info.initializerCount}, ${formatBytes(info.initializerBytes)}${info.externalInitializers > 0 ? ` (${info.externalInitializers} in external data files)` : ''}${info.constantBytes > 0 ? `; Constant tensors ${formatBytes(info.constantBytes)}` : ''}`,
  ];
  const metadata = Object.entries(info.metadata);
  lines.push(metadata.length === 0 ? 'metadata      -' : `metadata\n${indent(formatTable(['KEY', 'VALUE'], metadata.map(([k, v]) => [k, v.length > 100 ? `${v.slice(0, 97)}...` : v])))}`);
  if (info.docString) lines.push(`doc           ${info.docString.split('\n')[0]!.slice(0, 200)}`);
  return lines.join('\n');
}
