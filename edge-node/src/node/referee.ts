import {
  checkTensor,
  generateNodeKeyPair,
  HexEdgeError,
  oipInferenceResponseSchema,
  predictResponseSchema,
  tensorToJson,
  type Tensor,
} from '@hexedge/protocol';
import { readFile } from 'node:fs/promises';
import type { ModelManifest } from '../models/manifest.ts';
import { ModelSet } from '../server/model-set.ts';
import { createOipApp } from '../server/oip-app.ts';
import { nodeReceiptCrypto } from './node-crypto.ts';
import { OrtNodeBackend } from './ort-node.ts';
import { pullModel } from './pull.ts';

/** A request as the oracle's referee receives it: a spot-checked request and the catalogue's content id. */
export type RefereeRequest =
  | { kind: 'tensors'; modelName: string; modelVersion: string; modelContentId: string; inputs: Tensor[] }
  | { kind: 'domain'; modelName: string; modelVersion: string; modelContentId: string; input: unknown };
export type RefereeResult = { kind: 'tensors'; outputs: Tensor[] } | { kind: 'domain'; output: unknown };

/**
 * The coverage oracle's referee: it runs a disputed request itself, on the model fetched by its content
 * id from the gateways' origin registries (hash-checked, kept in `modelsDir`), through the very OIP app
 * and pipelines an edge node serves with, on onnxruntime-node's CPU provider. So the referee's answer
 * is what an honest node's is, within the model's tolerance, and the oracle needs no model of its own
 * until a dispute names one.
 */
export function createReferee(options: {
  sources: () => readonly string[];
  modelsDir: string;
  log?: (line: string) => void;
}) {
  const models = new ModelSet({ scheduler: { maxQueueDelayUs: 0 } });
  let backend: Promise<OrtNodeBackend> | undefined;
  const app = generateNodeKeyPair().then((keys) =>
    createOipApp({ models, keys, isReady: () => true, crypto: nodeReceiptCrypto }),
  );
  const loading = new Map<string, Promise<ModelManifest>>();

  const ensure = (contentId: string): Promise<ModelManifest> => {
    let model = loading.get(contentId);
    if (!model) {
      model = (async () => {
        const pulled = await pullModel({
          ref: contentId,
          sources: options.sources().map((url) => ({ kind: 'origin' as const, url })),
          modelsDir: options.modelsDir,
        });
        const bytes = new Uint8Array(await readFile(pulled.file));
        models.add(
          await (await (backend ??= OrtNodeBackend.create())).load({ manifest: pulled.manifest, bytes }),
        );
        options.log?.(`referee: loaded ${pulled.manifest.name}@${pulled.manifest.version} (${contentId})`);
        return pulled.manifest;
      })();
      loading.set(contentId, model);
      // A failed pull is tried again at the next dispute.
      model.catch(() => loading.delete(contentId));
    }
    return model;
  };

  return {
    async run(request: RefereeRequest): Promise<RefereeResult> {
      const manifest = await ensure(request.modelContentId);
      if (manifest.name !== request.modelName || manifest.version !== request.modelVersion)
        throw new HexEdgeError(
          'MODEL_NOT_FOUND',
          `content id ${request.modelContentId} is ${manifest.name}@${manifest.version}, not ${request.modelName}@${request.modelVersion}`,
        );
      const isTensors = request.kind === 'tensors';
      const path = `/v2/models/${encodeURIComponent(manifest.name)}/versions/${encodeURIComponent(manifest.version)}/${isTensors ? 'infer' : 'predict'}`;
      const body = isTensors
        ? { inputs: request.inputs.map((t) => tensorToJson(checkTensor(t))) }
        : { input: request.input };
      const res = await (
        await app
      ).request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json: unknown = await res.json();
      if (!res.ok)
        throw new HexEdgeError(
          'INTERNAL',
          `referee run of ${manifest.name}@${manifest.version} failed: HTTP ${res.status} ${JSON.stringify(json).slice(0, 200)}`,
        );
      if (isTensors)
        return {
          kind: 'tensors',
          outputs: oipInferenceResponseSchema.parse(json).outputs.map((o) => checkTensor(o)),
        };
      return { kind: 'domain', output: predictResponseSchema.parse(json).output };
    },
    close: () => models.releaseAll(),
  };
}
