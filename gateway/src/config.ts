import { MAX_GATEWAY_KEYS, nodeIdSchema } from '@hexedge/protocol';
import { z } from 'zod';

/**
 * The gateway deployable's configuration (`hexedge gateway --config FILE`, `hexedge dev`, tests): one
 * schema, parsed once at start-up. Every key, its default and its unit are in cli/examples/gateway.yaml.
 * Secrets (the admin key, the broker password) are not here: they come from the environment.
 */
const chirpstackSchema = z
  .object({
    /** Run the firmware bridge on ChirpStack's integration topics (application/+/device/+/event/+). */
    enabled: z.boolean().default(true),
    /** Its own MQTT client id (fixed: the broker keeps its session, so uplinks wait across a restart). */
    clientId: z.string().min(1).max(64).default('hexedge-bridge-1'),
    /**
     * Share ChirpStack's topics with other gateways ($share/hexedge-bridge/…). Off by default: the bridge
     * keeps per-device windows and duplicate state in this process (see BRIDGE_SHARE_GROUP).
     */
    shared: z.boolean().default(false),
    /** Seed the device registry with the demo fleet when it is empty (`hexedge dev`). */
    seedDemoFleet: z.boolean().default(false),
  })
  .strict();

const mqttSchema = z
  .object({
    /** The broker; may be left out when the gateway hosts it (embeddedBroker). */
    url: z.url({ protocol: /^mqtts?$/ }).optional(),
    clientId: z.string().min(1).max(64).default('hexedge-gateway-1'),
    username: z.string().min(1).max(128).default('hexedge-gateway'),
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
    /**
     * Share the request topics with other gateway instances ($share/hexedge/…; MQTT v5 brokers). Off by
     * default: one gateway's own subscription survives a broker restart in its persisted session, while
     * Mosquitto 2.0 restores sessions without their shared subscriptions (requests are then refused
     * until the gateways subscribe again). Turn it on to run several gateways behind one broker.
     */
    shared: z.boolean().default(false),
    /**
     * Serve a request whose client id is no device as the admin key. Only for a broker whose ACL lets
     * nobody but devices (under their own ids) and full-access users publish requests, such as the
     * files `hexedge broker acl` writes (`hexedge dev` sets it for its Mosquitto, where the admin key
     * logs in as user `admin`). Off: such requests are refused (UNAUTHORIZED).
     */
    fullAccessRequestsAsAdmin: z.boolean().default(false),
    chirpstack: chirpstackSchema.default(chirpstackSchema.parse({})),
  })
  .strict();

const oracleSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    /** The oracles whose trust pushes are accepted, pinned by key (GET {oracle}/v1/oracle/identity). */
    oracleIds: z.array(nodeIdSchema).min(1).max(16),
    /** Forward every checked receipt to the oracle for sampled spot checks (signed by the gateway's report key). */
    forwardReceipts: z.boolean().default(true),
  })
  .strict();

/** The MQTT broker the gateway hosts itself (aedes, MQTT 3.1.1): for `hexedge dev` on a machine without Mosquitto. */
const embeddedBrokerSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1883),
  })
  .strict();

/** Bounds on what callers and nodes may ask of the gateway at once (see each part for why). */
const limitsSchema = z
  .object({
    /** Inference requests in progress at once, all callers together; past it 503 OVERLOADED with Retry-After. */
    maxInFlight: z.number().int().min(1).max(1_000_000).default(2048),
    /** Inference requests one caller (API key, MQTT client) may have in progress; past it 429 RATE_LIMITED. */
    maxInFlightPerKey: z.number().int().min(1).max(1_000_000).default(128),
    /**
     * Node registrations accepted per client source (an IPv4 address, or an IPv6 /64: one host's or
     * subscriber's share, routes/client-source.ts): sustained per minute, and burst.
     */
    registrationsPerIpPerMinute: z.number().positive().max(1_000_000).default(60),
    registrationBurstPerIp: z.number().int().min(1).max(1_000_000).default(30),
    /** Heartbeats accepted per client source per second (many nodes may share an address). */
    heartbeatsPerIpPerSecond: z.number().positive().max(1_000_000).default(200),
    /**
     * The same per IPv6 /48 (one customer's or hosting account's 65 536 /64s), so cycling /64s buys no
     * more. A data centre of ~1 000 nodes behind one /48 beats 200/s at a 5 s interval and, after a
     * power cut, registers all at once: these leave it room. Never tighter than the per-source values.
     */
    registrationsPer48PerMinute: z.number().positive().max(1_000_000).default(120),
    registrationBurstPer48: z.number().int().min(1).max(1_000_000).default(300),
    heartbeatsPer48PerSecond: z.number().positive().max(1_000_000).default(1000),
    /**
     * Registered nodes on probation (not yet scored by the oracle) kept at most. Past it a new one takes
     * the slot of the oldest node of the source holding the most (when its own source, IPv4 address or
     * IPv6 /48, holds fewer even counting it), else is refused (503 OVERLOADED) until one is scored or
     * leaves: whoever fills the cap cannot keep out newcomers from elsewhere. Nodes with standing are not counted. Free
     * identities from free addresses must not fill memory, placement scans and the dashboards; 10 000
     * newcomers at once is far above an honest network's joining rate. Without an oracle no node is
     * ever scored: then this bounds every node.
     */
    maxProbationNodes: z.number().int().min(1).max(10_000_000).default(10_000),
    /** Open server-sent-event streams at once, all of them (the public network stream and per-key ones). */
    maxEventStreams: z.number().int().min(1).max(100_000).default(256),
    /** Open server-sent-event streams per client IP (public stream) or per key. */
    maxEventStreamsPerClient: z.number().int().min(1).max(100_000).default(8),
  })
  .strict();

/**
 * The verifiable response cache (src/cache/): answers of deterministic models, per tenant, served with
 * their original signed receipts. Off by default (as Triton's response cache): an operator turns it on
 * where callers send the same inputs again and again.
 */
const cacheSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** How long an answer is served from the cache after it was computed. */
    ttlMs: z.number().int().min(1).max(86_400_000).default(60_000),
    /** Answers kept, all tenants together (least recently used evicted first). */
    maxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
    /** Bytes kept (JSON size of the answers). */
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 ** 3)
      .default(64 * 1024 ** 2),
    /** An answer larger than this is not cached. */
    maxEntryBytes: z
      .number()
      .int()
      .min(256)
      .max(64 * 1024 ** 2)
      .default(1024 ** 2),
  })
  .strict();

export const gatewayConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** Placement state, API keys, the device registry, device credentials, the report key (SQLite, durable writes). */
    dataDir: z.string().min(1).default('.hexedge-gateway'),
    /** The origin model registry: hash-checked artifacts and manifests. Default: <dataDir>/models. */
    modelsDir: z.string().min(1).optional(),
    heartbeatIntervalMs: z.number().int().min(100).max(600_000).default(5_000),
    /** Take nodes' location claims as verified (only where no oracle runs). */
    assumeLocationsVerified: z.boolean().default(false),
    /**
     * Accept node URLs at loopback, private, link-local, unique-local and metadata addresses (checked at
     * registration and again when connecting, after DNS). Only for nodes on a private network on
     * purpose (`hexedge dev`, tests): otherwise a node could point the gateway at its own network.
     */
    allowPrivateNodeAddresses: z.boolean().default(false),
    limits: limitsSchema.default(limitsSchema.parse({})),
    cache: cacheSchema.default(cacheSchema.parse({})),
    /** Serve the web dashboards at /dashboard from this folder (built files); absent: /dashboard says how to build them. */
    dashboardDir: z.string().min(1).optional(),
    embeddedBroker: embeddedBrokerSchema.optional(),
    mqtt: mqttSchema.optional(),
    oracle: oracleSchema.optional(),
    /**
     * The report keys of the other gateway instances serving the same public URL (one load balancer,
     * each instance with its own dataDir, so its own key): GET /v1/gateway/identity lists them with
     * this one's (`reporterIds`). Nodes trust exactly the keys listed, so every instance must list
     * all the others; a key dropped from the list stops working at a node one re-read of its
     * (node.yaml gatewayKeysRefreshMs) plus the 60 s forward window later.
     */
    siblingReporterIds: z
      .array(nodeIdSchema)
      .max(MAX_GATEWAY_KEYS - 1)
      .default([]),
  })
  .strict()
  .refine((c) => !c.mqtt || c.mqtt.url !== undefined || c.embeddedBroker !== undefined, {
    path: ['mqtt', 'url'],
    message: 'is required unless the gateway hosts the broker (embeddedBroker)',
  })
  // The embedded broker checks each client itself and forgets old ones: a forgotten app key's client
  // id would then be taken for a full-access user's.
  .refine((c) => !c.mqtt?.fullAccessRequestsAsAdmin || c.embeddedBroker === undefined, {
    path: ['mqtt', 'fullAccessRequestsAsAdmin'],
    message:
      'is for an external broker (Mosquitto with the files hexedge broker acl writes), not embeddedBroker',
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;

/** Secrets, from the environment only (never from files or flags, which leak). */
export interface GatewaySecrets {
  /** The admin API key (16–256 printable characters). */
  adminKey: string;
  /** The ingress's broker password; default: the admin key. */
  mqttPassword?: string;
}

export const ADMIN_KEY_ENV = 'HEXEDGE_ADMIN_KEY';
export const MQTT_PASSWORD_ENV = 'HEXEDGE_MQTT_PASSWORD';
export const ADMIN_KEY_PATTERN = /^[\x21-\x7e]{16,256}$/;
