import { RERUN_PATH, signedRerunSchema, TRUST_PATH, trustPushSchema } from '@hexedge/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { coverageSchema, rerunAnswerSchema, trustPushAnswerSchema } from './answers.ts';
import { errors, jsonAnswer, jsonBody } from './content.ts';
import { checked } from './params.ts';

/** The coverage oracle's routes the gateway serves: its map proxied out, its trust pushes and re-runs in. */

const tags = ['oracle'];
const asGiven = (description: string) => checked((raw) => raw, { type: 'string', description });

export const coverageRoute = createRoute({
  method: 'get',
  path: '/v1/coverage',
  tags,
  summary: "The coverage oracle's map, proxied with the query as given (the oracle checks it)",
  description: 'Give one of `cell` (a hex of resolution ≥ 5), `lat` and `lng` (a point) or `bbox`.',
  request: {
    query: z.object({
      cell: asGiven('an H3 cell of resolution 5 or finer'),
      lat: asGiven('latitude of a point, degrees'),
      lng: asGiven('longitude of a point, degrees'),
      bbox: asGiven('minLat,minLng,maxLat,maxLng in degrees, at most 5° a side'),
    }),
  },
  responses: {
    200: jsonAnswer({
      name: 'Coverage',
      schema: coverageSchema,
      description: 'covered hexes; `truncated` when the area holds more than one answer lists',
    }),
    ...errors(400, 502),
  },
});

export const trustRoute = createRoute({
  method: 'post',
  path: TRUST_PATH,
  tags,
  summary: "A configured oracle's signed trust scores, applied to placement",
  description:
    'Refused whole when the signer is not a configured oracle, the signature does not verify, the push is stale, or its seq is not above the last applied one. Nodes the gateway does not know are listed in `ignored`.',
  request: { body: jsonBody({ name: 'TrustPush', schema: trustPushSchema, description: 'the signed push' }) },
  responses: {
    200: jsonAnswer({ name: 'TrustPushApplied', schema: trustPushAnswerSchema, description: 'applied' }),
    ...errors(400, 401, 403, 409, 413, 503),
  },
});

export const rerunRoute = createRoute({
  method: 'post',
  path: RERUN_PATH,
  tags,
  summary: "A configured oracle's spot-check re-run on one registered node, forwarded as live traffic is",
  request: {
    body: jsonBody({
      name: 'SignedRerun',
      schema: signedRerunSchema,
      description: 'the signed re-run (≤ 60 s old, each nonce once)',
    }),
  },
  responses: {
    200: jsonAnswer({
      name: 'RerunAnswer',
      schema: rerunAnswerSchema,
      description: "the node's OIP v2 answer, as it came",
    }),
    ...errors(400, 401, 403, 404, 409, 413, 502),
  },
});
