/**
 * Static int8 quantization of a GraphSpec in QDQ form: every MatMul whose second operand is a constant
 * gets a QuantizeLinear → DequantizeLinear pair on its activation input and a DequantizeLinear on an
 * int8 copy of its weights. The graph stays valid ONNX that any runtime can execute in float; ONNX
 * Runtime recognises the pairs and fuses them into integer kernels (MatMulIntegerToFloat/QLinearMatMul).
 *
 * - Weights: per output channel (axis 1 of a MatMul's [K, N] operand), symmetric, REDUCED RANGE
 *   ±63 (7 bits). On x86 without VNNI, ONNX Runtime multiplies u8×s8 with vpmaddubsw, which adds two
 *   products into an int16 and saturates: 255·127·2 > 32767, while 255·63·2 = 32130 fits.
 * - Activations: per tensor, asymmetric uint8, range from calibration (min/max of the real tensor,
 *   widened to include 0 so that zero — ReLU's output, padding — is exact).
 */
import type { GraphSpec, InitializerSpec, NodeSpec } from './onnx-graph.ts';

export interface ActivationRange {
  min: number;
  max: number;
}

export interface QuantizeOptions {
  /** Calibrated range of every activation that feeds a quantized MatMul, by tensor name. */
  activationRanges: Record<string, ActivationRange>;
  /** Node names left in float (e.g. ops whose inputs span too many decades for one uint8 scale). */
  excludeNodes?: string[];
}

/** 7-bit symmetric weights; see the module comment for why not 127. */
export const WEIGHT_QMAX = 63;
const UINT8_MAX = 255;

export const QUANTIZATION_METHOD =
  'static QDQ; MatMul weights int8 per-channel symmetric reduced-range (±63); activations uint8 asymmetric per-tensor, min/max calibration';

export function quantizeWeightsPerChannel(
  weights: Float32Array,
  dims: number[],
): { values: Int8Array; scales: Float32Array } {
  const [rows, columns] = dims;
  const scales = new Float32Array(columns);
  for (let j = 0; j < columns; j++) {
    let maxAbs = 0;
    for (let i = 0; i < rows; i++) maxAbs = Math.max(maxAbs, Math.abs(weights[i * columns + j]));
    // An all-zero column still needs a positive scale to be a valid DequantizeLinear parameter.
    scales[j] = maxAbs > 0 ? maxAbs / WEIGHT_QMAX : 1;
  }
  const values = new Int8Array(weights.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const q = Math.round(weights[i * columns + j] / scales[j]);
      values[i * columns + j] = Math.max(-WEIGHT_QMAX, Math.min(WEIGHT_QMAX, q));
    }
  }
  return { values, scales };
}

export function activationQuantParams(range: ActivationRange): { scale: number; zeroPoint: number } {
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  const scale = Math.fround(max > min ? (max - min) / UINT8_MAX : 1);
  const zeroPoint = Math.max(0, Math.min(UINT8_MAX, Math.round(-min / scale)));
  return { scale, zeroPoint };
}

export function quantizeGraph(spec: GraphSpec, options: QuantizeOptions): GraphSpec {
  const excluded = new Set(options.excludeNodes ?? []);
  const floatWeights = new Map(
    spec.initializers.filter((t) => t.datatype === 'FP32' && t.dims.length === 2).map((t) => [t.name, t]),
  );
  const initializers: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  const quantizedActivations = new Map<string, string>();
  const replacedWeights = new Set<string>();

  for (const node of spec.nodes) {
    const weight = floatWeights.get(node.inputs[1] ?? '');
    if (node.opType !== 'MatMul' || !weight || excluded.has(node.name ?? '')) {
      nodes.push(node);
      continue;
    }
    const activation = node.inputs[0];
    let dequantizedActivation = quantizedActivations.get(activation);
    if (!dequantizedActivation) {
      const range = options.activationRanges[activation];
      if (!range || !Number.isFinite(range.min) || !Number.isFinite(range.max)) {
        throw new RangeError(
          `quantize: no calibrated range for activation '${activation}' (input of ${node.name})`,
        );
      }
      const { scale, zeroPoint } = activationQuantParams(range);
      initializers.push(
        { name: `${activation}_scale`, datatype: 'FP32', dims: [], data: Float32Array.of(scale) },
        { name: `${activation}_zero_point`, datatype: 'UINT8', dims: [], data: Uint8Array.of(zeroPoint) },
      );
      const qdqInputs = [`${activation}_scale`, `${activation}_zero_point`];
      nodes.push({
        opType: 'QuantizeLinear',
        name: `${activation}_QuantizeLinear`,
        inputs: [activation, ...qdqInputs],
        outputs: [`${activation}_quantized`],
      });
      nodes.push({
        opType: 'DequantizeLinear',
        name: `${activation}_DequantizeLinear`,
        inputs: [`${activation}_quantized`, ...qdqInputs],
        outputs: [`${activation}_dequantized`],
      });
      dequantizedActivation = `${activation}_dequantized`;
      quantizedActivations.set(activation, dequantizedActivation);
    }

    const { values, scales } = quantizeWeightsPerChannel(weight.data as Float32Array, weight.dims);
    const columns = weight.dims[1];
    initializers.push(
      { name: `${weight.name}_quantized`, datatype: 'INT8', dims: weight.dims, data: values },
      { name: `${weight.name}_scale`, datatype: 'FP32', dims: [columns], data: scales },
      { name: `${weight.name}_zero_point`, datatype: 'INT8', dims: [columns], data: new Int8Array(columns) },
    );
    nodes.push({
      opType: 'DequantizeLinear',
      name: `${weight.name}_DequantizeLinear`,
      inputs: [`${weight.name}_quantized`, `${weight.name}_scale`, `${weight.name}_zero_point`],
      outputs: [`${weight.name}_dequantized`],
      attributes: { axis: { int: 1 } },
    });
    replacedWeights.add(weight.name);
    nodes.push({ ...node, inputs: [dequantizedActivation, `${weight.name}_dequantized`] });
  }

  const stillUsed = new Set(nodes.flatMap((n) => n.inputs));
  return {
    ...spec,
    // A float weight shared with an excluded node stays; otherwise only its int8 copy is stored.
    initializers: [
      ...spec.initializers.filter((t) => !replacedWeights.has(t.name) || stillUsed.has(t.name)),
      ...initializers,
    ],
    nodes,
  };
}
