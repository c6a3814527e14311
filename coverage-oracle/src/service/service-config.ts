import { latLngSchema, nodeIdSchema } from '@hexedge/protocol';
import { z } from 'zod';
import { oracleConfigSchema } from '../config.ts';

const url = z.url({ protocol: /^https?$/ });

/**
 * A report from a gateway reporter the oracle does not know re-reads the directory at most this often
 * (ms): a gateway that starts, or restarts with a new report key, is known within about one of its
 * forwarder's retries, while a flood of made-up reporters (key pairs are free) costs the gateways at
 * most one directory read per 2 s (5× the default 10 s refresh), however large the flood.
 */
export const DEFAULT_UNKNOWN_REPORTER_REFRESH_MS = 2_000;

/**
 * `hexedge oracle`'s configuration: the service around the oracle core (`oracle:` holds the core's
 * keys, coverage-oracle's `parseOracleConfig`). Every key, its default and its unit are in
 * cli/examples/oracle.yaml. Durations are ms; 0 disables a loop where noted.
 */
export const oracleServiceConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8790),
    /** Key (oracle-key.json, 0600), database (oracle.sqlite) and exported log (log/). */
    dataDir: z.string().min(1).default('.hexedge/oracle'),
    gatewayUrls: z.array(url).default(['http://127.0.0.1:8787']),
    /**
     * Node ids of the gateways' report keys: only they may forward receipts. The configured gateways'
     * own keys (GET {gateway}/v1/gateway/identity) are added at each directory refresh.
     */
    gatewayReporterIds: z.array(nodeIdSchema).default([]),
    /**
     * The oracle operator's own vantage points (anchors): nodes it runs at surveyed places, trusted as
     * location challengers from the start, at the place given here (not the place they claim). A new
     * network has no verifiers yet (standing needs a verified location, which needs challengers):
     * anchors, with the oracle's own probe, are how the first claims get verified. Default: none.
     */
    anchors: z
      .array(z.object({ nodeId: nodeIdSchema, location: latLngSchema }).strict())
      .max(64)
      .default([]),
    /**
     * Keys whose signed deposits (POST /v1/oracle/stake, type stake-deposit) credit operators' stake
     * accounts: the bridge from wherever stake is really paid in (a chain). None: no deposits.
     */
    treasuryIds: z.array(nodeIdSchema).max(16).default([]),
    /** Where the oracle challenges nodes from (degrees); put it where it really runs. */
    location: latLngSchema.default({ lat: 52.3676, lng: 4.9041 }),
    /** 0 turns latency challenges off (everything on one machine proves nothing about places). */
    challengeIntervalMs: z.number().int().min(0).default(60_000),
    challengersPerNode: z.number().int().min(1).max(20).default(5),
    challengeTimeoutMs: z.number().int().min(100).max(60_000).default(2_000),
    directoryRefreshMs: z.number().int().min(100).default(10_000),
    unknownReporterRefreshMs: z.number().int().min(100).default(DEFAULT_UNKNOWN_REPORTER_REFRESH_MS),
    trustPushIntervalMs: z.number().int().min(50).default(2_000),
    fullTrustPushIntervalMs: z.number().int().min(1000).default(60_000),
    reRunTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** 0 exports only at shutdown. */
    exportIntervalMs: z.number().int().min(0).default(300_000),
    /** Default: <dataDir>/log. */
    exportDir: z.string().min(1).optional(),
    /**
     * Closed epochs whose receipt and verdict hash lists stay in the store (the newest ones); older
     * epochs' lists are dropped once exported, their `epoch-<n>.log.json` being the record (24: a day
     * of hourly epochs). 0 keeps every list in the store (it grows by ~6 M rows an epoch at 1 700
     * answers a second).
     */
    logHashRetentionEpochs: z.number().int().min(0).default(24),
    oracle: oracleConfigSchema.default(oracleConfigSchema.parse({})),
  })
  .strict();

export type OracleServiceConfigInput = z.input<typeof oracleServiceConfigSchema>;
export type OracleServiceConfig = z.output<typeof oracleServiceConfigSchema>;
