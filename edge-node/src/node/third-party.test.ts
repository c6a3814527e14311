import { sha256Hex } from '@hexedge/protocol';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { getPipeline } from '../pipelines/index.ts';
import { thirdPartyModels } from './third-party.ts';

/** ORT metadata marks a dynamic dimension with a symbolic name (a string, sometimes empty); manifests use -1. */
function manifestShape(shape: readonly (number | string)[]): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : -1));
}
const ORT_TO_OIP: Record<string, string> = { float32: 'FP32', int64: 'INT64' };

describe('thirdPartyModels', () => {
  it('describes the packaged ONNX files as they are: content id, size, inputs and outputs', async () => {
    const models = await thirdPartyModels();
    expect(models.map((m) => `${m.manifest.name}@${m.manifest.version}`)).toEqual([
      'silero-vad@5',
      'ppocr-rec@4',
    ]);
    for (const { manifest, bytes } of models) {
      expect(manifest.contentId).toBe(await sha256Hex(bytes));
      expect(manifest.sizeBytes).toBe(bytes.length);
      expect(getPipeline(manifest.pipeline!)?.id).toBe(manifest.pipeline);
      const session = await ort.InferenceSession.create(bytes);
      try {
        const specOf = (m: {
          name: string;
          isTensor: boolean;
          type?: string;
          shape?: readonly (number | string)[];
        }) => {
          if (!m.isTensor) throw new Error(`${m.name} is not a tensor`);
          return { name: m.name, datatype: ORT_TO_OIP[m.type!], shape: manifestShape(m.shape!) };
        };
        expect(manifest.inputs).toEqual(session.inputMetadata.map(specOf));
        expect(manifest.outputs).toEqual(session.outputMetadata.map(specOf));
      } finally {
        await session.release();
      }
    }
    const [vad, ocr] = models.map((m) => m.manifest);
    expect(vad).toMatchObject({
      batchable: false,
      license: 'MIT',
      pipeline: 'silero-vad-v5',
      prefersAccelerator: false,
    });
    expect(ocr).toMatchObject({
      batchable: true,
      license: 'Apache-2.0',
      pipeline: 'ppocr-rec-v4',
      prefersAccelerator: true,
    });
    // blank + the 6623 dictionary lines + space = the model's 6625 classes.
    expect(ocr!.labels).toHaveLength(6625);
    expect([ocr!.labels![0], ocr!.labels![1], ocr!.labels!.at(-1)]).toEqual(['<blank>', "'", ' ']);
  });

  it('has no pipeline for an unknown id', () => {
    expect(getPipeline('no-such-pipeline')).toBeUndefined();
  });
});
