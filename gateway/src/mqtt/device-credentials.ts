import { HexEdgeError, quoteValue } from '@hexedge/protocol';
import { isValidTopicLevel } from './topics.ts';

/**
 * Per-device MQTT credentials: the device id is its MQTT client id and username. Passwords are kept
 * only as salted PBKDF2-SHA512 hashes in Mosquitto's own `$7$iterations$salt$hash` format (what
 * `mosquitto_passwd` writes), so the same record authenticates on the embedded broker and can be
 * written straight into a Mosquitto `password_file` without ever knowing the password.
 */
export interface DeviceRecord {
  id: string;
  /** `$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512 hash>`. */
  passwordHash: string;
  /** Models the device may ask for; absent means all. */
  models?: string[];
  disabled?: boolean;
}

/** Where device records live; the firmware-bridge's device registry will implement this too. */
export interface DeviceStore {
  get(id: string): DeviceRecord | undefined;
  put(record: DeviceRecord): void;
  list(): DeviceRecord[];
}

export class MemoryDeviceStore implements DeviceStore {
  readonly #records = new Map<string, DeviceRecord>();
  get(id: string) {
    return this.#records.get(id);
  }
  put(record: DeviceRecord) {
    this.#records.set(record.id, record);
  }
  list() {
    return [...this.#records.values()];
  }
}

/**
 * OWASP suggests 210k for PBKDF2-SHA512 on user passwords; device secrets are random, so their
 * strength comes from entropy, and 20k keeps a reconnect storm of thousands of devices affordable.
 */
export const DEVICE_PBKDF2_ITERATIONS = 20_000;
/** Mosquitto's sizes: a 12-byte salt and the full 64-byte SHA-512 output. */
const SALT_BYTES = 12;
const HASH_BYTES = 64;
const MAX_ITERATIONS = 10_000_000;

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function pbkdf2Sha512(options: {
  password: string;
  salt: Uint8Array;
  iterations: number;
}): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(options.password),
    'PBKDF2',
    false,
    ['deriveBits'],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-512', salt: options.salt as BufferSource, iterations: options.iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** Hashes a device password in Mosquitto's `$7$` format. */
export async function hashDevicePassword(
  password: string,
  options: { iterations?: number; salt?: Uint8Array } = {},
): Promise<string> {
  const iterations = options.iterations ?? DEVICE_PBKDF2_ITERATIONS;
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return `$7$${iterations}$${toBase64(salt)}$${toBase64(await pbkdf2Sha512({ password, salt, iterations }))}`;
}

/** Whether `password` matches a `$7$` hash; a malformed hash matches nothing. Equal-time compare. */
export async function verifyDevicePassword(password: string, passwordHash: string): Promise<boolean> {
  const m = /^\$7\$(\d{1,8})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(passwordHash);
  if (!m) return false;
  const iterations = Number(m[1]);
  if (iterations < 1 || iterations > MAX_ITERATIONS) return false;
  const expected = fromBase64(m[3]!);
  const actual = await pbkdf2Sha512({ password, salt: fromBase64(m[2]!), iterations });
  if (actual.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < actual.length; i++) diff |= actual[i]! ^ expected[i]!;
  return diff === 0;
}

/** Adds devices and checks their passwords; wraps a `DeviceStore`. */
export class DeviceCredentials {
  readonly store: DeviceStore;

  constructor(options: { store?: DeviceStore } = {}) {
    this.store = options.store ?? new MemoryDeviceStore();
  }

  /** Adds (or replaces) a device; its id must be usable as one MQTT topic level. */
  async add(spec: {
    id: string;
    password: string;
    models?: string[];
    iterations?: number;
  }): Promise<DeviceRecord> {
    if (!isValidTopicLevel(spec.id)) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `device id ${quoteValue(spec.id)} must be 1–128 printable ASCII characters without / + # $`,
      );
    }
    if (spec.id.startsWith('hexedge-')) {
      // The gateway's own MQTT clients are hexedge-…: a device of that name could log in as one of them.
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `device id ${JSON.stringify(spec.id)} starts with hexedge-, which is reserved for the gateway's own MQTT clients`,
      );
    }
    if (spec.password.length < 8)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `the password of device ${spec.id} must have at least 8 characters`,
      );
    const record: DeviceRecord = {
      id: spec.id,
      passwordHash: await hashDevicePassword(
        spec.password,
        spec.iterations ? { iterations: spec.iterations } : {},
      ),
      ...(spec.models ? { models: spec.models } : {}),
    };
    this.store.put(record);
    return record;
  }

  get(id: string): DeviceRecord | undefined {
    return this.store.get(id);
  }

  /** The device's record when the password matches and the device is enabled, else undefined. */
  async authenticate(id: string, password: string): Promise<DeviceRecord | undefined> {
    const record = this.store.get(id);
    if (!record || record.disabled) return undefined;
    return (await verifyDevicePassword(password, record.passwordHash)) ? record : undefined;
  }
}
