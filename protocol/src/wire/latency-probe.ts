import { z } from 'zod';
import type { LatLng } from '../geo.ts';
import { SIGNATURE_PATTERN, type NodeKeyPair } from '../identity.ts';
import { nodeIdSchema } from '../schemas/node.ts';
import { isValidSignature, signBody, type Signed } from '../signing.ts';
import { randomNonce } from './latency-challenge.ts';
import { LatencyChallenger, locationReportFor, type FetchLike } from './latency-challenger.ts';

/**
 * The oracle asks a trusted node to challenge another (`POST {challenger url}/v1/oracle/probe`): the
 * request is signed by the oracle (kind 'report', with a type no ingest report uses, as challenges
 * are); the challenger times the target with its own clock and answers with its signed `location`
 * report, which the oracle submits to ingest like any other. The challenger never needs to know
 * where the oracle is, and only an oracle it was configured with can make it send challenges.
 */
export const PROBE_PATH = '/v1/oracle/probe';
/** A probe request older than this is refused: it cannot be replayed to make a node hammer a target later. */
export const MAX_PROBE_AGE_MS = 30_000;

export const probeBodySchema = z.object({
  type: z.literal('latency-probe'),
  nodeId: nodeIdSchema,
  targetNodeId: nodeIdSchema,
  targetUrl: z.url({ protocol: /^https?$/ }).max(2048),
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/),
  issuedAtMs: z.number().int().nonnegative(),
});
export const signedProbeSchema = z.object({
  body: probeBodySchema,
  signature: z.string().regex(SIGNATURE_PATTERN),
});
export type ProbeBody = z.infer<typeof probeBodySchema>;

export function createProbe(options: {
  oracle: NodeKeyPair;
  target: { nodeId: string; url: string };
  nowMs: number;
}): Promise<Signed<ProbeBody>> {
  const body: ProbeBody = {
    type: 'latency-probe',
    nodeId: options.oracle.nodeId,
    targetNodeId: options.target.nodeId,
    targetUrl: options.target.url,
    nonce: randomNonce(),
    issuedAtMs: options.nowMs,
  };
  return signBody('report', body, options.oracle.privateKey);
}

/**
 * The challenger node's side: checks the probe (a configured oracle's signature, fresh, not about
 * this node itself), challenges the target and returns its signed location report, or null for a
 * probe it must refuse (the node answers 400 then).
 */
export async function answerProbe(
  raw: unknown,
  options: {
    node: NodeKeyPair;
    location: LatLng;
    oracleIds: readonly string[];
    fetch: FetchLike;
    nowMs?: number;
    timeoutMs?: number;
  },
): Promise<Awaited<ReturnType<typeof locationReportFor>> | null> {
  const nowMs = options.nowMs ?? Date.now();
  const parsed = signedProbeSchema.safeParse(raw);
  if (!parsed.success) return null;
  const { body } = parsed.data;
  if (!options.oracleIds.includes(body.nodeId) || body.targetNodeId === options.node.nodeId) return null;
  if (Math.abs(nowMs - body.issuedAtMs) > MAX_PROBE_AGE_MS) return null;
  if (!(await isValidSignature('report', parsed.data))) return null;
  const challenger = new LatencyChallenger({
    keys: options.node,
    location: options.location,
    fetch: options.fetch,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  const outcome = await challenger.challenge({ nodeId: body.targetNodeId, url: body.targetUrl });
  return locationReportFor({ outcome, challenger: options.node, nowMs: Date.now() });
}
