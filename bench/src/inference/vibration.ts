/**
 * The project's larger model, vibration-anomaly (input `window` [batch, 512, 3], MLP 99→512→4), built in
 * memory by the edge node's toolchain (fp32 and int8 from the same seed), and realistic windows from the
 * model's own simulator (shaft orbits, bearing impacts, noise) as requests.
 */
import { buildModelArtifacts, PROJECT_MODELS, writeModel, type ModelArtifact } from '@hexedge/edge-node/node';
import type { Tensor } from '@hexedge/protocol';

export const VIBRATION_MODEL = 'vibration-anomaly';
export const FP32_VERSION = '1.0.0';
export const INT8_VERSION = '1.0.0-int8';
const definition = PROJECT_MODELS.find((d) => d.name === VIBRATION_MODEL)!;
const [WINDOW_SAMPLES, AXES] = definition.inputShape as [number, number];
export const WINDOW_ELEMENTS = WINDOW_SAMPLES * AXES;

type Rng = Parameters<typeof definition.generate>[0];

/** mulberry32 with Box–Muller normals and Knuth Poisson: the simulator's Rng contract. */
function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (n) => Math.floor(next() * n),
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
    poisson: (mean) => {
      let count = 0;
      for (let p = next(), limit = Math.exp(-mean); p > limit; p *= next()) count++;
      return count;
    },
  };
}

/** fp32 and int8 artifacts (manifest + bytes), trained and quantised in memory (~4 s). */
export async function vibrationArtifacts(): Promise<{ fp32: ModelArtifact; int8: ModelArtifact }> {
  const { artifacts } = await buildModelArtifacts(definition);
  const pick = (version: string) => artifacts.find((a) => a.manifest.version === version)!;
  return { fp32: pick(FP32_VERSION), int8: pick(INT8_VERSION) };
}

/** Writes artifacts in the model store's layout, for a node process to load with `readModelDir`. */
export async function writeArtifacts(dir: string, artifacts: readonly ModelArtifact[]): Promise<void> {
  for (const a of artifacts) await writeModel({ dir, manifest: a.manifest, bytes: a.bytes });
}

/** `count` simulated windows (all four machine conditions), each 512 × 3 g. */
export function vibrationWindows(count: number, seed = 7): Float32Array[] {
  return definition.generate(createRng(seed), count).inputs;
}

/** `rows` windows joined into one [rows, 512, 3] tensor. */
export function windowBatch(windows: readonly Float32Array[], rows: number, offset = 0): Tensor {
  const data = new Float32Array(rows * WINDOW_ELEMENTS);
  for (let i = 0; i < rows; i++) data.set(windows[(offset + i) % windows.length]!, i * WINDOW_ELEMENTS);
  return { name: definition.inputName, datatype: 'FP32', shape: [rows, WINDOW_SAMPLES, AXES], data };
}

/** An OIP JSON infer body for one window, as a client sends it (float32 values as JSON numbers). */
export function windowJsonBody(window: Float32Array): string {
  return JSON.stringify({
    inputs: [
      {
        name: definition.inputName,
        datatype: 'FP32',
        shape: [1, WINDOW_SAMPLES, AXES],
        data: Array.from(window),
      },
    ],
  });
}

/**
 * The same window as a binary-extension body (JSON header, then the float32 bytes), as the gateway
 * forwards tensors to nodes.
 */
export function windowBinaryBody(window: Float32Array): {
  body: Uint8Array;
  headers: Record<string, string>;
} {
  const bytes = new Uint8Array(window.buffer, window.byteOffset, window.byteLength);
  const header = new TextEncoder().encode(
    JSON.stringify({
      inputs: [
        {
          name: definition.inputName,
          datatype: 'FP32',
          shape: [1, WINDOW_SAMPLES, AXES],
          parameters: { binary_data_size: bytes.length },
        },
      ],
    }),
  );
  const body = new Uint8Array(header.length + bytes.length);
  body.set(header);
  body.set(bytes, header.length);
  return {
    body,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    },
  };
}
