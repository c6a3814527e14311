/**
 * Accumulates the nodes and initializers of a GraphSpec (onnx-graph.ts) while a model is assembled
 * stage by stage: feature extraction, standardisation, MLP. Names are chosen by the caller, because
 * calibration and the quantizer refer to tensors by name.
 */
import type { AttributeValue, InitializerSpec, NodeSpec } from './onnx-graph.ts';

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];

  /** Adds an FP32 constant (float64 values are rounded to float32 as the file stores them). */
  constantFloat(name: string, dims: number[], values: ArrayLike<number>): string {
    this.initializers.push({ name, datatype: 'FP32', dims, data: Float32Array.from(values) });
    return name;
  }

  constantInt64(name: string, dims: number[], values: number[]): string {
    this.initializers.push({ name, datatype: 'INT64', dims, data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  /** Adds one node with a single output and returns the output's name, for chaining. */
  op(opType: string, inputs: string[], output: string, attributes?: Record<string, AttributeValue>): string {
    this.nodes.push({ opType, inputs, outputs: [output], name: output, attributes });
    return output;
  }
}
