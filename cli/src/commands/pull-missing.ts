import { createPullProgress, pullModel, readModelDir, type PullSource } from '@hexedge/edge-node/node';
import { parseModelRef } from '@hexedge/edge-node';

/**
 * Start-up pulls for `hexedge node run`: every configured model the models directory lacks, one at a
 * time (a node's uplink is the bottleneck, not latency). A failed pull is logged and skipped — the
 * node still serves what it has, and the next start tries again.
 */
export async function pullMissingModels(o: { refs: string[]; modelsDir: string; sources: PullSource[]; log: (m: string) => void }): Promise<number> {
  const held = (await readModelDir(o.modelsDir).catch(() => ({ artifacts: [] }))).artifacts.map((a) => a.manifest);
  const missing = o.refs.filter((text) => {
    const ref = parseModelRef(text);
    return !held.some((m) => ('contentId' in ref ? m.contentId === ref.contentId : m.name === ref.name && m.version === ref.version));
  });
  if (missing.length === 0) return 0;
  if (o.sources.length === 0) {
    o.log(`models missing from ${o.modelsDir}: ${missing.join(', ')}; no peer or gateway to pull them from`);
    return 0;
  }
  o.log(`pulling ${missing.length} missing model(s): ${missing.join(', ')}`);
  const onProgress = createPullProgress({ stream: process.stdout, log: o.log });
  let pulled = 0;
  for (const ref of missing) {
    try {
      await pullModel({ ref, sources: o.sources, modelsDir: o.modelsDir, onProgress });
      pulled++;
    } catch (err) {
      o.log(`model ${ref} not pulled, serving without it: ${(err as Error).message}`);
    }
  }
  return pulled;
}
