import { describe, expect, it } from 'vitest';
import type { LoadedModel } from '../backends/backend.ts';
import type { ModelManifest } from '../models/manifest.ts';
import { ModelSet } from './model-set.ts';

function fakeModel(version: string) {
  const model = {
    manifest: { name: 'm', version, batchable: true } as ModelManifest,
    executionProvider: 'cpu' as const,
    released: 0,
    async run() {
      return [];
    },
    async release() {
      model.released++;
    },
  };
  return model satisfies LoadedModel;
}

describe('ModelSet', () => {
  it('gives back the sessions of a model replaced under the same name and version, and keeps the others', async () => {
    const set = new ModelSet();
    const first = fakeModel('1');
    const other = fakeModel('2');
    set.add(first);
    set.add(other);
    const second = fakeModel('1');
    set.add(second);
    expect(first.released).toBe(1);
    expect(other.released).toBe(0);
    expect(set.resolve('m', '1').model).toBe(second);
    await set.releaseAll();
    expect([first.released, second.released, other.released]).toEqual([1, 1, 1]);
  });
});
