import { trimOldest } from '@hexedge/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import type { ApiKeyRecord } from '../keys/key-store.ts';
import type { DeviceCredentials } from './device-credentials.ts';
import { isValidTopicLevel, parseRequestTopic, responseRoot } from './topics.ts';

/**
 * Who is on the other end of an MQTT connection. Devices and app keys are confined to topics under
 * their own client id (plus the v5 `infer/{model}` topic for the models they may use); an admin key
 * has full access, as a network server's integration user does.
 */
export interface MqttPrincipal {
  kind: 'admin' | 'app' | 'device';
  clientId: string;
  /** Device id or API key id. */
  id: string;
  models?: readonly string[];
  region?: string;
  /** The API key's record, so MQTT requests are metered like HTTP ones. */
  key?: ApiKeyRecord;
}

/** Clients remembered for the ingress; past this the oldest is forgotten (it re-authenticates on connect). */
const MAX_REMEMBERED_CLIENTS = 100_000;

/**
 * The broker-side access policy, shared by the embedded broker's hooks and the ingress: who may
 * connect (device password or API key), publish and subscribe where, and which caller a request
 * that arrives on a client's topics belongs to.
 */
export class BrokerAccess {
  readonly #devices: DeviceCredentials | undefined;
  readonly #keys: KeyRing | undefined;
  readonly #clients = new Map<string, MqttPrincipal>();
  readonly #fullAccessKey: ApiKeyRecord | undefined;

  constructor(options: {
    devices?: DeviceCredentials;
    keys?: KeyRing;
    /**
     * The key a request is served as when its client id is neither a device nor a client seen logging
     * in here. Only for an external broker whose ACL lets nobody but devices (under their own ids) and
     * full-access users publish requests, as the files `hexedge broker acl` writes: such a request was
     * published by a full-access user (`hexedge dev`'s Mosquitto: its admin login). Never with the
     * embedded broker, which forgets clients past MAX_REMEMBERED_CLIENTS.
     */
    fullAccessKey?: ApiKeyRecord;
  }) {
    this.#devices = options.devices;
    this.#keys = options.keys;
    this.#fullAccessKey = options.fullAccessKey;
  }

  /**
   * A device connects with its id as client id and username and its own password; anyone else with
   * an API key as the password (any username). Undefined means refuse.
   */
  async authenticate(options: {
    clientId: string;
    username?: string;
    password?: string;
  }): Promise<MqttPrincipal | undefined> {
    const { clientId, username, password } = options;
    if (password === undefined || !isValidTopicLevel(clientId)) return undefined;
    const device = username !== undefined ? this.#devices?.get(username) : undefined;
    let principal: MqttPrincipal | undefined;
    if (device) {
      // Binding client id to username is what keeps device A off device B's topics.
      if (username !== clientId || !(await this.#devices!.authenticate(username, password))) return undefined;
      principal = {
        kind: 'device',
        clientId,
        id: device.id,
        ...(device.models ? { models: device.models } : {}),
      };
    } else if (this.#keys) {
      const key = await this.#keys.authenticate(password).catch(() => undefined);
      // An app key's client ids are its own: `{keyId}` or `{keyId}.{anything}`. It may take neither a
      // device's nor the gateway's (a second connection with an id kicks the first off the broker).
      if (!key || (key.role !== 'admin' && !isClientIdOfKey(clientId, key.id))) return undefined;
      principal = {
        kind: key.role,
        clientId,
        id: key.id,
        key,
        ...(key.models ? { models: key.models } : {}),
        ...(key.region ? { region: key.region } : {}),
      };
    }
    if (principal) this.#remember(principal);
    return principal;
  }

  #remember(principal: MqttPrincipal): void {
    this.#clients.delete(principal.clientId);
    this.#clients.set(principal.clientId, principal);
    trimOldest(this.#clients, MAX_REMEMBERED_CLIENTS);
  }

  /**
   * The principal a request on `clientId`'s topics belongs to: the one that connected with that id
   * here, else the device of that id (an external broker authenticated it against the same records),
   * else, with `fullAccessKey`, a full-access broker user served as that key.
   */
  principalOf(clientId: string): MqttPrincipal | undefined {
    const known = this.#clients.get(clientId);
    if (known) return known;
    const device = this.#devices?.get(clientId);
    if (!device && this.#fullAccessKey) {
      const key = this.#fullAccessKey;
      return { kind: key.role, clientId, id: key.id, key, ...(key.models ? { models: key.models } : {}) };
    }
    if (!device || device.disabled) return undefined;
    return { kind: 'device', clientId, id: device.id, ...(device.models ? { models: device.models } : {}) };
  }

  canPublish(principal: MqttPrincipal, topic: string): boolean {
    if (principal.kind === 'admin') return true;
    const parsed = parseRequestTopic(topic);
    if (!parsed || parsed.clientId !== principal.clientId) return false;
    if (parsed.form === 'v311') return true;
    return !principal.models || principal.models.includes(parsed.model);
  }

  /**
   * Non-admins may read only under their own response root; wildcards below it stay inside it. The
   * request topics (shared or not) are the gateway's alone: a member of its share group would be
   * handed, and could silently withhold, its share of everyone's requests.
   */
  canSubscribe(principal: MqttPrincipal, filter: string): boolean {
    if (principal.kind === 'admin') return true;
    if (!filter.startsWith(`${responseRoot('')}`)) return false;
    // An app key reads the answers of any of its own client ids; a device only its own.
    const owner = filter.split('/')[3] ?? '';
    const mine =
      principal.kind === 'app' && principal.key
        ? isClientIdOfKey(owner, principal.key.id)
        : owner === principal.clientId;
    return mine && isValidTopicLevel(owner) && filter.startsWith(`${responseRoot(owner)}/`);
  }
}

/** An app key's client ids: its key id, or its key id followed by `.` and a suffix of the caller's choosing. */
export function isClientIdOfKey(clientId: string, keyId: string): boolean {
  return clientId === keyId || clientId.startsWith(`${keyId}.`);
}
