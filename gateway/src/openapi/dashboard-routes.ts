import { HexEdgeError } from '@hexedge/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { getResolution, isValidCell } from 'h3-js';
import { fleetEventSchema } from '../events/bridge-events.ts';
import {
  eventAcceptedSchema,
  fleetEventsSchema,
  hexDetailSchema,
  hexesSchema,
  operatorSchema,
  usageDetailSchema,
} from './answers.ts';
import { errors, jsonAnswer, jsonBody, textAnswer } from './content.ts';
import { checked, intInRange, pathParam } from './params.ts';
import { nodeIdParams } from './node-routes.ts';

/** The dashboards' routes (routes/dashboard*.ts): the built page, the map's data, per-key views, SSE streams. */

const security = [{ apiKey: [] }];
const tags = ['dashboards'];

/** Colourings the map offers; `value` in each cell is the chosen one. */
export const HEX_METRICS = ['coverage', 'density', 'trust', 'demand', 'latency'] as const;
export type HexMetric = (typeof HEX_METRICS)[number];
/** Nodes sit in res-9 cells (placement's NODE_CELL_RESOLUTION): a finer map hex would hold a piece of one. */
export const MAX_MAP_RES = 9;
const DEFAULT_MAP_RES = 4;

const html = (description: string) => textAnswer(description, 'text/html');

export const dashboardRedirectRoute = createRoute({
  method: 'get',
  path: '/dashboard',
  tags,
  summary: 'The web dashboards (redirects to /dashboard/)',
  responses: {
    301: { description: 'to /dashboard/', headers: { Location: { schema: { type: 'string' } } } },
  },
});

export const dashboardIndexRoute = createRoute({
  method: 'get',
  path: '/dashboard/',
  tags,
  summary: 'The web dashboards: network map, operator view, developer view, fleet view',
  responses: {
    200: html('the single-page app'),
    503: html('the dashboards are not built (the page says how to build them)'),
  },
});

/** Documented here, routed by hono as `/dashboard/:asset{.+}` (an asset path has slashes: `assets/index-1a2b.js`). */
export const dashboardAssetRoute = createRoute({
  method: 'get',
  path: '/dashboard/{asset}',
  tags,
  summary:
    "A built dashboard file; a page path the build does not hold gets index.html (the app's own routing)",
  request: {
    params: z.object({
      asset: pathParam((raw) => raw, {
        type: 'string',
        description: 'a path under the build, slashes allowed',
      }),
    }),
  },
  responses: {
    200: textAnswer('the file (Content-Type by extension)', '*/*'),
    404: textAnswer('no such file', 'text/plain'),
    503: html('the dashboards are not built'),
  },
});

function metric(raw: string | undefined): HexMetric {
  const value = (raw ?? 'coverage') as HexMetric;
  if (!HEX_METRICS.includes(value))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `metric must be one of ${HEX_METRICS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return value;
}

export const hexesQuery = z.object({
  res: checked(intInRange({ name: 'res', min: 0, max: MAX_MAP_RES, fallback: DEFAULT_MAP_RES }), {
    type: 'integer',
    minimum: 0,
    maximum: MAX_MAP_RES,
    default: DEFAULT_MAP_RES,
    description: 'H3 resolution of the map cells',
  }),
  metric: checked(metric, {
    type: 'string',
    enum: HEX_METRICS,
    default: 'coverage',
    description: 'the colouring each cell’s `value` carries',
  }),
});

export const hexesRoute = createRoute({
  method: 'get',
  path: '/v1/network/hexes',
  tags,
  summary: "The network map's cells: nodes, health, trust, demand and latency per hex",
  description:
    'Demand and latency are counted where requests came from, at no finer than resolution 4 (`requestRes`), whatever `res` is asked for.',
  request: { query: hexesQuery },
  responses: {
    200: jsonAnswer({ name: 'NetworkHexes', schema: hexesSchema(HEX_METRICS), description: 'the cells' }),
    ...errors(400),
  },
});

function mapCell(raw: string): string {
  if (!isValidCell(raw) || getResolution(raw) > MAX_MAP_RES)
    throw new HexEdgeError(
      'INVALID_CELL',
      `not an H3 cell of resolution ≤ ${MAX_MAP_RES}: ${JSON.stringify(raw.slice(0, 32))}`,
    );
  return raw;
}

export const hexDetailParams = z.object({
  cell: pathParam(mapCell, { type: 'string', description: `an H3 cell of resolution ≤ ${MAX_MAP_RES}` }),
});

export const hexDetailRoute = createRoute({
  method: 'get',
  path: '/v1/network/hexes/{cell}',
  tags,
  summary: 'The nodes in one hex with their health, trust and load, and the radio signal the oracle saw',
  request: { params: hexDetailParams },
  responses: {
    200: jsonAnswer({ name: 'HexDetail', schema: hexDetailSchema, description: 'the hex' }),
    ...errors(400),
  },
});

export const operatorRoute = createRoute({
  method: 'get',
  path: '/v1/nodes/{id}/operator',
  tags,
  summary:
    "Everything the operator view shows of a node, with the oracle's verdicts and the proof-of-sampling condition",
  request: { params: nodeIdParams },
  responses: {
    200: jsonAnswer({ name: 'OperatorView', schema: operatorSchema, description: 'the node' }),
    ...errors(404),
  },
});

export const usageDetailRoute = createRoute({
  method: 'get',
  path: '/v1/usage/detail',
  tags,
  security,
  summary: "The caller's latency by region and requests per minute over the last hour",
  responses: {
    200: jsonAnswer({ name: 'UsageDetail', schema: usageDetailSchema, description: 'the detail' }),
    ...errors(401),
  },
});

export const fleetEventsRoute = createRoute({
  method: 'get',
  path: '/v1/fleet/events',
  tags,
  security,
  summary: 'Recent results and errors of the fleets the key may see (admin keys: every fleet), oldest first',
  responses: {
    200: jsonAnswer({ name: 'FleetEvents', schema: fleetEventsSchema, description: 'the events' }),
    ...errors(401),
  },
});

const sse = (description: string) => ({
  200: textAnswer(
    `${description}. Each event: \`id\`, \`event\` (its type) and \`data\`, one JSON line { id, type, atMs, data }; recent events are replayed first.`,
    'text/event-stream',
  ),
});

export const networkStreamRoute = createRoute({
  method: 'get',
  path: '/v1/events/network',
  tags,
  summary:
    'Server-sent events: public network events (requests on the map at resolution 4, node heartbeats and status)',
  responses: { ...sse('the stream'), ...errors(503) },
});

export const developerStreamRoute = createRoute({
  method: 'get',
  path: '/v1/events/developer',
  tags,
  security,
  summary: "Server-sent events: the key's own requests",
  responses: { ...sse('the stream'), ...errors(401, 503) },
});

export const fleetStreamRoute = createRoute({
  method: 'get',
  path: '/v1/events/fleet',
  tags,
  security,
  summary: 'Server-sent events: results and errors of the fleets the key may see',
  responses: { ...sse('the stream'), ...errors(401, 503) },
});

export const postEventRoute = createRoute({
  method: 'post',
  path: '/v1/events',
  tags,
  security,
  summary: 'Where a firmware bridge in another process posts its results and errors (admin key)',
  request: {
    body: jsonBody({
      name: 'FleetEvent',
      schema: fleetEventSchema,
      description: 'a fleet.result or fleet.error',
    }),
  },
  responses: {
    202: jsonAnswer({ name: 'EventAccepted', schema: eventAcceptedSchema, description: 'published' }),
    ...errors(400, 401, 403, 413),
  },
});
