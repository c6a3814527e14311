import { CHALLENGE_PATH, HexEdgeError, MAX_CHALLENGE_BODY_BYTES, PROBE_PATH } from '@hexedge/protocol';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export { MAX_CHALLENGE_BODY_BYTES };

/**
 * How the node answers the coverage oracle: protocol's `answerChallenge` and `answerProbe`, bound to
 * the node's key, location and the oracles it knows (the builder passes them in; tests may pass liars).
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
  app.post(CHALLENGE_PATH, limit, async (c) => {
    const answer = await options.answerChallenge(await readJson(c));
    if (answer === null || answer === undefined)
      throw new HexEdgeError('INVALID_REQUEST', 'not a valid challenge for this node');
    return c.json(answer);
  });
  app.post(PROBE_PATH, limit, async (c) => {
    if (!options.answerProbe) throw new HexEdgeError('FORBIDDEN', 'this node does not challenge others');
    const report = await options.answerProbe(await readJson(c));
    if (report === null || report === undefined)
      throw new HexEdgeError(
        'FORBIDDEN',
        'probe refused: not signed by a configured oracle, stale, or about this node',
      );
    return c.json(report);
  });
}
