import { ATTEMPT_TIMEOUT_FLOOR_MS } from '@hexedge/gateway';
import { sleep, waitUntil } from '@hexedge/test-kit';
import type { Fabric } from './fabric.ts';
import { setLink } from './netns.ts';
import { ADMIN_KEY } from './configs.ts';
import { infer, inferBody, keyOfNode, wallMs } from './requests.ts';
import { CITIES, round3 } from './world.ts';

interface Sent {
  /** The request's id (the body's `id`), to read its trace at the gateway. */
  id: string;
  startMs: number;
  endMs: number;
  status: number;
  node: string;
}

/**
 * One caller sends requests one after another (deadline `deadlineMs` each); after 1.5 s the host that
 * served the last answer has its link cut inside its namespace (`ip link set … down`), so the next
 * request's first choice has gone silent. Runs until five more answers came after the gateway stopped
 * listing the node healthy (or 20 s), then brings the link back and waits for the node to be healthy.
 * Each request carries its own id, so its trace at the gateway tells whether it met the silent host.
 */
/** Answered requests the node to cut is chosen from (the most frequent server among the latest). */
const CHOICE_SAMPLE = 10;

export async function cutServingHost(fabric: Fabric, options: { callerKey: string; deadlineMs: number }) {
  const caller = fabric.host(options.callerKey);
  const sent: Sent[] = [];
  let cut: { key: string; atMs: number } | undefined;
  let unhealthyAtMs: number | undefined;
  const begunMs = wallMs();
  while (wallMs() - begunMs < 20_000) {
    const startMs = wallMs();
    const id = `failover-${begunMs.toFixed(0)}-${sent.length}`;
    const res = await infer(
      fabric,
      caller,
      { ...inferBody(CITIES[caller.city], { deadlineMs: options.deadlineMs }), id },
      options.deadlineMs + 2_000,
    ).catch(() => undefined);
    sent.push({
      id,
      startMs,
      endMs: wallMs(),
      status: res?.status ?? 0,
      node: keyOfNode(fabric, res?.body.node?.id),
    });
    const answered = sent.filter((r) => r.status === 200 && r.node);
    if (!cut && wallMs() - begunMs > 1_500 && res?.status === 200 && answered.length >= CHOICE_SAMPLE) {
      // Cut the node serving most of this caller's recent requests (the one placement keeps choosing
      // now), not whichever answered last nor one the first requests met while new nodes were being
      // explored: a node P2C picked a few times early may never be picked again (a fresh-clone run cut
      // such a node after 3 answers, and none of the 41 requests after the cut met it).
      const key = mostFrequent(answered.slice(-CHOICE_SAMPLE).map((r) => r.node));
      setLink(fabric.host(key), 'down');
      cut = { key, atMs: wallMs() };
      const nodeId = fabric.node(key).nodeId;
      void waitUntil(
        'the cut node to drop off the healthy list',
        async () => !(await fabric.listNodes()).some((n) => n.id === nodeId),
        { timeoutMs: 15_000, intervalMs: 100 },
      ).then(
        () => (unhealthyAtMs = wallMs()),
        () => {},
      );
    }
    if (
      cut &&
      unhealthyAtMs !== undefined &&
      sent.filter((r) => r.startMs > unhealthyAtMs! && r.status === 200).length >= 5
    )
      break;
    await sleep(50);
  }
  if (!cut)
    throw new Error(`no request was answered in 20 s, nothing to cut: ${JSON.stringify(sent.slice(-3))}`);

  const after = sent.filter((r) => r.startMs >= cut!.atMs);
  const firstOther = after.find((r) => r.status === 200 && r.node !== cut!.key);
  const nodeId = fabric.node(cut.key).nodeId;
  // A request that tried the silent host first: its trace at the gateway holds a failed attempt on it
  // (whether the attempt timed out or the connection failed at once), and another node answered.
  const failedOver: Sent[] = [];
  for (const r of after) {
    if (r.status !== 200) continue;
    const t = await fabric.agent(options.callerKey).call<{
      status: number;
      body: { traces?: { hops: { hop: string; nodeId?: string; ok?: boolean }[] }[] };
    }>('fetch', {
      url: `${fabric.url.gateway}/v1/traces/${r.id}`,
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const hops = t.body.traces?.[0]?.hops ?? [];
    if (hops.some((h) => h.hop === 'node' && h.nodeId === nodeId && h.ok === false)) failedOver.push(r);
  }
  // Of those, the ones that waited out their attempt timeout (≥ 1 s) on the silent host.
  const timedOut = failedOver.filter((r) => r.endMs - r.startMs >= ATTEMPT_TIMEOUT_FLOOR_MS);

  const restoredAtMs = wallMs();
  setLink(fabric.host(cut.key), 'up');
  await waitUntil(
    'the node to be healthy again once its link is back',
    async () => (await fabric.listNodes()).some((n) => n.id === nodeId),
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  const healthyAgainAfterMs = wallMs() - restoredAtMs;

  return {
    cut,
    after,
    figures: {
      caller: caller.city,
      cut: cut.key,
      deadlineMs: options.deadlineMs,
      requestsAfterCut: after.length,
      answeredAfterCut: after.filter((r) => r.status === 200).length,
      firstOtherAnswerMs: firstOther ? round3(firstOther.endMs - cut.atMs) : -1,
      failedOver: failedOver.length,
      failedOverAfterTimeout: timedOut.length,
      slowestAfterCutMs: round3(Math.max(...after.map((r) => r.endMs - r.startMs))),
      unhealthyAfterMs: unhealthyAtMs === undefined ? -1 : round3(unhealthyAtMs - cut.atMs),
      healthyAgainAfterMs: round3(healthyAgainAfterMs),
    },
  };
}

function mostFrequent(keys: string[]): string {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}
