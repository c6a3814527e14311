import { HexEdgeError } from '@hexedge/protocol';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** A challenge or probe is a few hundred bytes of signed JSON. */
export const MAX_CHALLENGE_BODY_BYTES = 4 * 1024;

/**
 * How the node answers the coverage oracle. The wire formats belong to the oracle
 * (`@hexedge/coverage-oracle`'s `answerChallenge` and `answerProbe`), which the edge node does not
 * import: the composition root passes them in, bound to the node's key.
 */
export interface OracleRouteOptions {
  /** Signs the node's answer to a latency challenge addressed to it; null for one it must refuse. */
  answerChallenge(raw: unknown): Promise<unknown>;
  /** Challenges another node on a configured oracle's behalf and returns the signed location report; null to refuse. */
  answerProbe?(raw: unknown): Promise<unknown>;
}

const limit = bodyLimit({
  maxSize: MAX_CHALLENGE_BODY_BYTES,
  onError: () => {
    throw new HexEdgeError('PAYLOAD_TOO_LARGE', `challenge body exceeds ${MAX_CHALLENGE_BODY_BYTES} bytes`);
  },
});

async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
  }
}

/**
 * `POST /v1/oracle/challenge` (answered at once: the challenger times this round trip, so nothing
 * slow may sit in front of it) and `POST /v1/oracle/probe` (this node challenging another for the oracle).
 */
export function registerOracleRoutes(app: Hono, options: OracleRouteOptions): void {
  app.post('/v1/oracle/challenge', limit, async (c) => {
    const answer = await options.answerChallenge(await readJson(c));
    if (answer === null || answer === undefined) throw new HexEdgeError('INVALID_REQUEST', 'not a valid challenge for this node');
    return c.json(answer);
  });
  app.post('/v1/oracle/probe', limit, async (c) => {
    if (!options.answerProbe) throw new HexEdgeError('FORBIDDEN', 'this node does not challenge others');
    const report = await options.answerProbe(await readJson(c));
    if (report === null || report === undefined) throw new HexEdgeError('FORBIDDEN', 'probe refused: not signed by a configured oracle, stale, or about this node');
    return c.json(report);
  });
}
