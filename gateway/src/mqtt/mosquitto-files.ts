import { HexEdgeError, MAX_INFER_BODY_BYTES, quoteValue } from '@hexedge/protocol';
import type { DeviceRecord } from './device-credentials.ts';
import { isValidTopicLevel, TOPIC_ROOT } from './topics.ts';

/**
 * The largest MQTT packet a broker should accept: an 8 MiB request body plus room for the topic
 * and v5 properties. A body just over 8 MiB still reaches the ingress and is answered with
 * PAYLOAD_TOO_LARGE; anything far larger is cut off by the broker before it costs memory.
 */
export const MAX_MQTT_PACKET_BYTES = MAX_INFER_BODY_BYTES + 64 * 1024;

/** A broker user with full access (the gateway's ingress, the firmware bridge, an integration). */
export interface BrokerAdminUser {
  username: string;
  passwordHash: string;
}

/** The file the dynamic-security plugin reads (and rewrites, if ever changed over `$CONTROL`). */
export const DYNSEC_FILE = 'dynamic-security.json';
/** Where distributions install Mosquitto's dynamic-security plugin (Debian/Ubuntu, multiarch; others). */
export const DYNSEC_PLUGIN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
  '/usr/lib64/mosquitto_dynamic_security.so',
  '/usr/local/lib/mosquitto_dynamic_security.so',
  '/opt/homebrew/lib/mosquitto_dynamic_security.so',
];
/** Device ids may not start with this: it is the gateway's own client ids' prefix (hexedge-gateway-1…). */
export const RESERVED_CLIENT_ID_PREFIX = 'hexedge-';

const checkLevel = (value: string, what: string) => {
  if (!isValidTopicLevel(value))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${what} ${quoteValue(value)} cannot be written to a Mosquitto file (no spaces, / + # $)`,
    );
  return value;
};

/** `$7$iterations$salt$hash` (Mosquitto's password-file format) as the plugin's fields: the same PBKDF2-SHA512. */
function passwordFields(passwordHash: string, who: string) {
  const m = /^\$7\$(\d{1,8})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(passwordHash);
  if (!m)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `the stored password of ${who} is not a $7$ PBKDF2-SHA512 hash`,
    );
  return { iterations: Number(m[1]), salt: m[2]!, password: m[3]! };
}

type Acl = {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribePattern';
  topic: string;
  priority: 0;
  allow: true;
};
const allow = (acltype: Acl['acltype'], topic: string): Acl => ({ acltype, topic, priority: 0, allow: true });

/**
 * Mosquitto's dynamic-security configuration (`dynamic-security.json`) for the devices and the gateway
 * users, enforcing what the embedded broker's BrokerAccess enforces:
 * - a device's client id is bound to its username (its device id): nobody can log in with another
 *   client's id and disconnect it, the gateway's ingress included;
 * - a device may publish only requests under its own id (`req/{id}/+`, `infer/{id}/{model}` for its
 *   models), and subscribe to and receive only its own answers (`res/{id}/#`); by default nothing
 *   else, so no device can join the gateway's `$share` group (or subscribe to the request topics) and
 *   withhold other devices' requests;
 * - gateway users have full access, `$share/…` included.
 * Unlike `acl_file`, the plugin checks SUBSCRIBE against its rules (Mosquitto 2.0's acl_file grants
 * every subscription and filters only delivery, which a shared subscription turns into silent loss).
 */
export function mosquittoDynamicSecurity(options: {
  devices: readonly DeviceRecord[];
  admins: readonly BrokerAdminUser[];
}) {
  const devices = options.devices.filter((d) => !d.disabled);
  for (const d of devices) {
    checkLevel(d.id, 'device id');
    if (d.id.startsWith(RESERVED_CLIENT_ID_PREFIX)) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `device id ${JSON.stringify(d.id)} starts with ${RESERVED_CLIENT_ID_PREFIX}, which is reserved for the gateway's own MQTT clients`,
      );
    }
  }
  // One dynamic-security client per username: a device named like a gateway user would shadow it.
  const usernames = new Set<string>();
  for (const username of [...options.admins.map((a) => a.username), ...devices.map((d) => d.id)]) {
    if (usernames.has(username))
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `broker username ${JSON.stringify(username)} is taken twice (a device id equal to a gateway user's name)`,
      );
    usernames.add(username);
  }
  const deviceRole = (d: DeviceRecord) => ({
    rolename: `device-${d.id}`,
    acls: [
      allow('publishClientSend', `${TOPIC_ROOT}/req/${d.id}/+`),
      ...(d.models ?? ['+']).map((m) =>
        allow('publishClientSend', `${TOPIC_ROOT}/infer/${d.id}/${m === '+' ? m : checkLevel(m, 'model')}`),
      ),
      allow('subscribePattern', `${TOPIC_ROOT}/res/${d.id}/#`),
      allow('publishClientReceive', `${TOPIC_ROOT}/res/${d.id}/#`),
    ],
  });
  return {
    defaultACLAccess: {
      publishClientSend: false,
      publishClientReceive: false,
      subscribe: false,
      unsubscribe: true,
    },
    clients: [
      ...options.admins.map((a) => ({
        username: checkLevel(a.username, 'username'),
        textname: 'HexEdge gateway (full access)',
        ...passwordFields(a.passwordHash, a.username),
        roles: [{ rolename: 'hexedge-gateway' }],
      })),
      ...devices.map((d) => ({
        username: d.id,
        clientid: d.id,
        ...passwordFields(d.passwordHash, d.id),
        roles: [{ rolename: `device-${d.id}` }],
      })),
    ],
    groups: [],
    roles: [
      {
        rolename: 'hexedge-gateway',
        acls: [
          allow('publishClientSend', '#'),
          allow('publishClientReceive', '#'),
          allow('subscribePattern', '#'),
          allow('subscribePattern', '$share/#'),
        ],
      },
      ...devices.map(deviceRole),
    ],
  };
}

/**
 * A Mosquitto config for these files: the dynamic-security plugin (authentication, client-id binding
 * and ACLs, see mosquittoDynamicSecurity), no anonymous clients, packets bounded.
 */
export function mosquittoConfig(options: {
  dir: string;
  port: number;
  host?: string;
  user?: string;
  pluginPath: string;
  /** Further config lines, appended (`hexedge dev`: its log goes to stderr, which it prefixes). */
  extraLines?: readonly string[];
}): string {
  return [
    `listener ${options.port}${options.host ? ` ${options.host}` : ''}`,
    'allow_anonymous false',
    `plugin ${options.pluginPath}`,
    `plugin_opt_config_file ${options.dir}/${DYNSEC_FILE}`,
    `max_packet_size ${MAX_MQTT_PACKET_BYTES}`,
    // Mosquitto leaves Nagle on by default: a QoS 1 round trip then waits ~40 ms on delayed ACKs.
    'set_tcp_nodelay true',
    // Persistent sessions keep the ingress's queued requests across a gateway restart, and broker
    // persistence keeps sessions (with their non-shared subscriptions and queued messages) across a
    // broker restart: written at shutdown and every autosave interval, in this folder. Mosquitto 2.0
    // restores a session without its shared subscriptions, so with `mqtt.shared: true` requests
    // published before a gateway has subscribed again are refused (PUBACK 0x10); with one gateway
    // (`shared: false`, the default) they wait in its restored session.
    'persistence true',
    `persistence_location ${options.dir}/`,
    'autosave_interval 60',
    'persistent_client_expiration 1d',
    ...(options.user ? [`user ${options.user}`] : []),
    ...(options.extraLines ?? []),
    '',
  ].join('\n');
}
