// The Worker under test: the real entry, plus a shard whose clock a test can move forward (to reach
// the eviction age without waiting ten minutes) and test-only routes to look inside shards and to
// tell isolates apart.
import { directoryBucketName } from '@hexedge/placement/shards';
import worker, { PlacementShard, shardNetworkOf, type GatewayWorkerEnv } from '../src/adapters/worker.ts';

export { ApiKeyDirectory, ApiKeyVault, PlacementDirectory, SourceLimits } from '../src/adapters/worker.ts';
export { PlacementShard };

export class ClockedPlacementShard extends PlacementShard {
  offsetMs = 0;
  protected override now(): number {
    return Date.now() + (this.offsetMs ?? 0);
  }
  async advanceClock(ms: number): Promise<void> {
    this.offsetMs += ms;
    await this.rearmAlarm();
  }
}

/** This isolate's own id (drawn on first use: no random values at global scope). Module state is per isolate. */
let isolateId: string | undefined;

type TestEnv = Omit<GatewayWorkerEnv, 'SHARDS'> & { SHARDS: DurableObjectNamespace<ClockedPlacementShard> };

export default {
  async fetch(
    request: Request<unknown, IncomingRequestCfProperties>,
    env: TestEnv,
    ctx: ExecutionContext,
  ): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/__test/isolate')
      return Response.json({ isolateId: (isolateId ??= crypto.randomUUID()) });
    if (url.pathname === '/__test/directory') {
      // Which shard the directory names for a node (null: none), to catch entries left for evicted nodes.
      const id = url.searchParams.get('id')!;
      const bucket = shardNetworkOf(env as unknown as GatewayWorkerEnv).directory(directoryBucketName(id));
      return Response.json({ cell: await bucket.lookup(id) });
    }
    if (url.pathname.startsWith('/__test/')) {
      const cell = url.searchParams.get('cell')!;
      const shard = shardNetworkOf(env as unknown as GatewayWorkerEnv).shard(
        cell,
      ) as unknown as DurableObjectStub<ClockedPlacementShard>;
      if (url.pathname === '/__test/stats') return Response.json(await shard.stats());
      if (url.pathname === '/__test/trust')
        return Response.json(
          await shard.setTrust(url.searchParams.get('id')!, Number(url.searchParams.get('score'))),
        );
      if (url.pathname === '/__test/advance')
        return Response.json(await shard.advanceClock(Number(url.searchParams.get('ms'))));
    }
    return worker.fetch(request, env as unknown as GatewayWorkerEnv, ctx);
  },
};
