import { ATTEMPT_TIMEOUT_FLOOR_MS } from '@hexedge/gateway';
import { sleep, waitUntil } from '@hexedge/test-kit';
import type { Fabric } from './fabric.ts';
import { setLink } from './netns.ts';
import { infer, inferBody, keyOfNode, wallMs } from './requests.ts';
import { CITIES, round3 } from './world.ts';

interface Sent {
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
 */
export async function cutServingHost(fabric: Fabric, options: { callerKey: string; deadlineMs: number }) {
  const caller = fabric.host(options.callerKey);
  const sent: Sent[] = [];
  let cut: { key: string; atMs: number } | undefined;
  let unhealthyAtMs: number | undefined;
  const begunMs = wallMs();
  while (wallMs() - begunMs < 20_000) {
    const startMs = wallMs();
    const res = await infer(
      fabric,
      caller,
      inferBody(CITIES[caller.city], { deadlineMs: options.deadlineMs }),
      options.deadlineMs + 2_000,
    ).catch(() => undefined);
    sent.push({
      startMs,
      endMs: wallMs(),
      status: res?.status ?? 0,
      node: keyOfNode(fabric, res?.body.node?.id),
    });
    const answered = sent.filter((r) => r.status === 200 && r.node);
    if (!cut && wallMs() - begunMs > 1_500 && res?.status === 200 && answered.length >= 3) {
      // Cut the node serving most of this caller's requests (the one placement keeps choosing), not
      // whichever answered last: a node P2C picked once may not be picked again, and then no request
      // would meet the silent host.
      const key = mostFrequent(answered.map((r) => r.node));
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
  // A request that tried the silent host first waited out its attempt timeout (≥ 1 s) before the next node.
  const failedOver = after.filter((r) => r.endMs - r.startMs >= ATTEMPT_TIMEOUT_FLOOR_MS);

  const nodeId = fabric.node(cut.key).nodeId;
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
