import { decodeOnnxModel } from '@hexedge/edge-node';

/** ONNX TensorProto.DataType codes (onnx.proto) → name, OIP datatype where one exists, element size in bytes. */
const ONNX_TYPES: Record<number, { name: string; oip?: string; sizeBytes: number }> = {
  1: { name: 'float', oip: 'FP32', sizeBytes: 4 },
  2: { name: 'uint8', oip: 'UINT8', sizeBytes: 1 },
  3: { name: 'int8', oip: 'INT8', sizeBytes: 1 },
  4: { name: 'uint16', oip: 'UINT16', sizeBytes: 2 },
  5: { name: 'int16', oip: 'INT16', sizeBytes: 2 },
  6: { name: 'int32', oip: 'INT32', sizeBytes: 4 },
  7: { name: 'int64', oip: 'INT64', sizeBytes: 8 },
  8: { name: 'string', oip: 'BYTES', sizeBytes: 0 },
  9: { name: 'bool', oip: 'BOOL', sizeBytes: 1 },
  10: { name: 'float16', oip: 'FP16', sizeBytes: 2 },
  11: { name: 'double', oip: 'FP64', sizeBytes: 8 },
  12: { name: 'uint32', oip: 'UINT32', sizeBytes: 4 },
  13: { name: 'uint64', oip: 'UINT64', sizeBytes: 8 },
  14: { name: 'complex64', sizeBytes: 8 },
  15: { name: 'complex128', sizeBytes: 16 },
  16: { name: 'bfloat16', sizeBytes: 2 },
};
/** TensorProto.DataLocation.EXTERNAL: the weights sit in a side file the .onnx only names. */
const EXTERNAL_DATA = 1;

export interface OnnxValueInfo {
  name: string;
  elemType: string;
  /** OIP datatype, when the element type has one. */
  datatype: string | undefined;
  /** A string is a symbolic dimension ('batch'); '?' an unknown one. */
  shape: (number | string)[];
}

export interface OnnxInfo {
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  graphName: string;
  docString: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Top-level nodes; `opCounts` also counts nodes inside If/Loop/Scan bodies. */
  nodeCount: number;
  subgraphNodeCount: number;
  opCounts: [string, number][];
  initializerCount: number;
  initializerBytes: number;
  externalInitializers: number;
  /** Weights stored as Constant nodes' tensors (exporters such as spox and torch do this). */
  constantBytes: number;
  metadata: Record<string, string>;
}

type Model = ReturnType<typeof decodeOnnxModel>;
type Graph = NonNullable<Model['graph']>;
type ValueInfo = NonNullable<Graph['input']>[number];
type Tensor = NonNullable<Graph['initializer']>[number];

function tensorBytes(t: Tensor): number {
  const elements = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  const sizeBytes = ONNX_TYPES[t.dataType ?? 0]?.sizeBytes ?? 0;
  return sizeBytes > 0 ? elements * sizeBytes : (t.stringData ?? []).reduce((a, s) => a + s.length, 0);
}

interface GraphTotals {
  opCounts: Map<string, number>;
  nodes: number;
  initializers: number;
  initializerBytes: number;
  externalInitializers: number;
  constantBytes: number;
}

/** Adds a graph and every subgraph its nodes carry (If branches, Loop/Scan bodies) to the totals. */
function walkGraph(graph: Graph, totals: GraphTotals): void {
  for (const t of graph.initializer ?? []) {
    totals.initializers++;
    totals.initializerBytes += tensorBytes(t);
    if (t.dataLocation === EXTERNAL_DATA) totals.externalInitializers++;
  }
  for (const n of graph.node ?? []) {
    totals.nodes++;
    const op = n.domain ? `${n.domain}.${n.opType}` : (n.opType ?? '?');
    totals.opCounts.set(op, (totals.opCounts.get(op) ?? 0) + 1);
    for (const a of n.attribute ?? []) {
      if (op === 'Constant' && a.t) totals.constantBytes += tensorBytes(a.t);
      if (a.g) walkGraph(a.g, totals);
      for (const g of a.graphs ?? []) walkGraph(g, totals);
    }
  }
}

function valueInfo(v: ValueInfo): OnnxValueInfo {
  const tensor = v.type?.tensorType;
  const type = ONNX_TYPES[tensor?.elemType ?? 0];
  const shape = (tensor?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    return Object.hasOwn(d, 'dimValue') ? Number(d.dimValue) : '?';
  });
  return { name: v.name ?? '', elemType: type?.name ?? (tensor ? `type ${tensor.elemType}` : 'not a tensor'), datatype: type?.oip, shape };
}

/** What `hexedge model inspect` shows and `hexedge model add` needs, read from the ModelProto. */
export function describeOnnx(bytes: Uint8Array): OnnxInfo {
  let model: Model;
  try {
    model = decodeOnnxModel(bytes);
  } catch (err) {
    throw new Error(`not an ONNX model (ModelProto does not decode: ${(err as Error).message})`);
  }
  const graph = model.graph;
  if (!graph) throw new Error('not an ONNX model (no graph)');
  // Graph inputs may repeat initializers (IR < 4 style); those are weights, not what callers feed.
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const totals: GraphTotals = { opCounts: new Map(), nodes: 0, initializers: 0, initializerBytes: 0, externalInitializers: 0, constantBytes: 0 };
  walkGraph(graph, totals);
  const nodeCount = graph.node?.length ?? 0;
  return {
    irVersion: Number(model.irVersion ?? 0),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') || '-',
    opsets: (model.opsetImport ?? []).map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version ?? 0) })),
    graphName: graph.name ?? '',
    docString: model.docString || graph.docString || '',
    inputs: (graph.input ?? []).filter((v) => !initializerNames.has(v.name ?? '')).map(valueInfo),
    outputs: (graph.output ?? []).map(valueInfo),
    nodeCount,
    subgraphNodeCount: totals.nodes - nodeCount,
    opCounts: [...totals.opCounts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    initializerCount: totals.initializers,
    initializerBytes: totals.initializerBytes,
    externalInitializers: totals.externalInitializers,
    constantBytes: totals.constantBytes,
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
}
