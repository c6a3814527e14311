import { generateNodeKeyPair, GATEWAY_IDENTITY_PATH, NODES_PATH } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { GatewayDirectory } from './gateway-directory.ts';

const A = 'http://gateway-a.test';
const B = 'http://gateway-b.test';

/** Gateways over a fake fetch: each answers its identity and one node, or is down (connection refused). */
function gateways(
  state: Record<string, { reporterId: string; reporterIds?: string[]; nodeId: string } | 'down'>,
) {
  return (async (input: string) => {
    const url = new URL(input);
    const g = state[url.origin];
    if (!g || g === 'down') throw new TypeError(`fetch failed: connect ECONNREFUSED ${url.origin}`);
    if (url.pathname === GATEWAY_IDENTITY_PATH)
      return Response.json({
        reporterId: g.reporterId,
        ...(g.reporterIds ? { reporterIds: g.reporterIds } : {}),
        algorithm: 'Ed25519',
        encoding: 'base64url',
      });
    if (url.pathname === NODES_PATH)
      return Response.json({
        nodes: [
          {
            id: g.nodeId,
            url: `${url.origin}/n`,
            lat: 52,
            lng: 5,
            cell: '871969',
            locationVerified: true,
            models: [{ name: 'm', version: '1', ready: true }],
          },
        ],
        next: null,
      });
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
}

const ids = async (n: number) =>
  Promise.all(Array.from({ length: n }, async () => (await generateNodeKeyPair()).nodeId));

describe('GatewayDirectory.refresh', () => {
  it('a gateway that is down does not keep another (new) gateway unknown', async () => {
    const [reporterB, nodeB] = await ids(2);
    const directory = new GatewayDirectory({ isVerifier: () => false });
    const failures = await directory.refresh({
      gatewayUrls: [A, B],
      fetch: gateways({ [A]: 'down', [B]: { reporterId: reporterB!, nodeId: nodeB! } }),
    });
    expect(failures).toEqual([{ gatewayUrl: A, message: expect.stringContaining('ECONNREFUSED') }]);
    expect(directory.getReporter(reporterB!)).toEqual({ nodeId: reporterB, roles: ['gateway'] });
    expect(directory.getNode(nodeB!)).toMatchObject({ gatewayUrl: B });
  });

  it('a gateway that cannot be read keeps what it listed last; one read again replaces its report key', async () => {
    const [reporterA, nodeA, reporterB, nodeB, newReporterB] = await ids(5);
    const directory = new GatewayDirectory({ isVerifier: () => false });
    const up = {
      [A]: { reporterId: reporterA!, nodeId: nodeA! },
      [B]: { reporterId: reporterB!, nodeId: nodeB! },
    };
    expect(await directory.refresh({ gatewayUrls: [A, B], fetch: gateways(up) })).toEqual([]);
    // A goes down; B restarts with a new report key.
    const later = { [A]: 'down' as const, [B]: { reporterId: newReporterB!, nodeId: nodeB! } };
    expect(await directory.refresh({ gatewayUrls: [A, B], fetch: gateways(later) })).toHaveLength(1);
    expect(directory.getReporter(reporterA!)?.roles).toEqual(['gateway']);
    expect(directory.getNode(nodeA!)).toMatchObject({ gatewayUrl: A });
    expect(directory.getReporter(newReporterB!)?.roles).toEqual(['gateway']);
    expect(directory.getReporter(reporterB!)).toBeUndefined();
  });

  it('every instance behind one gateway URL (its reporterIds) may report, and one that left may not', async () => {
    const [one, two, three, node] = await ids(4);
    const directory = new GatewayDirectory({ isVerifier: () => false });
    const at = (reporterIds: string[]) => gateways({ [A]: { reporterId: one!, reporterIds, nodeId: node! } });
    await directory.refresh({ gatewayUrls: [A], fetch: at([one!, two!]) });
    expect(directory.getReporter(one!)?.roles).toEqual(['gateway']);
    expect(directory.getReporter(two!)?.roles).toEqual(['gateway']);
    await directory.refresh({ gatewayUrls: [A], fetch: at([one!, three!]) });
    expect(directory.getReporter(three!)?.roles).toEqual(['gateway']);
    expect(directory.getReporter(two!)).toBeUndefined();
  });

  it('refreshReporters runs the hook it was given (the service passes its rate-limited read)', async () => {
    let asks = 0;
    const directory = new GatewayDirectory({
      isVerifier: () => false,
      onUnknownReporter: async () => asks++,
    });
    await directory.refreshReporters();
    expect(asks).toBe(1);
  });
});
