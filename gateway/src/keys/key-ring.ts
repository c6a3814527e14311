import { bytesToBase64Url, HexEdgeError, sha256Hex, type Sha256Hex } from '@hexedge/protocol';
import type { ApiKeyRecord, KeyStore } from './key-store.ts';

const encoder = new TextEncoder();

/** Defaults for a new app key: 50 requests/s sustained, bursts of 100, 100k requests a day. */
export const DEFAULT_KEY_LIMITS = { ratePerSecond: 50, burst: 100, dailyQuota: 100_000 } as const;
/** An admin key (the one `hexedge dev` prints) is not throttled in practice. */
export const ADMIN_KEY_LIMITS = {
  ratePerSecond: 100_000,
  burst: 100_000,
  dailyQuota: 1_000_000_000,
} as const;

export interface NewKey {
  name: string;
  role?: 'admin' | 'app';
  models?: string[];
  region?: string;
  ratePerSecond?: number;
  burst?: number;
  dailyQuota?: number;
  expiresAtMs?: number;
  /** The configured slot this key fills (see ApiKeyRecord.slot); only for adopted keys. */
  slot?: string;
}

const randomToken = (bytes: number) => bytesToBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));

/**
 * Issues, checks and revokes API keys. A key is `hx_<id>_<secret>` (256-bit secret), shown once at
 * creation; the store keeps only its SHA-256, so a leaked database reveals no usable key. Lookup is
 * by that hash, which reveals nothing about the key through timing.
 */
export class KeyRing {
  readonly #store: KeyStore;
  readonly #now: () => number;
  readonly #sha256: Sha256Hex;

  /** `sha256`: the hash to look keys up by; WebCrypto's by default (Node injects node:crypto's, faster). */
  constructor(options: { store: KeyStore; now?: () => number; sha256?: Sha256Hex }) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#sha256 = options.sha256 ?? sha256Hex;
  }

  async create(spec: NewKey): Promise<{ key: string; record: ApiKeyRecord }> {
    const id = randomToken(9);
    const key = `hx_${id}_${randomToken(32)}`;
    return { key, record: await this.#put(id, key, spec) };
  }

  /**
   * Registers a key chosen by the operator (`HEXEDGE_ADMIN_KEY`, `hexedge dev --api-key`), idempotently.
   * With a `slot`, every other key that filled that slot is revoked: an operator who changes the
   * configured admin key expects the old one to stop working. Keys adopted before slots existed are
   * recognised by `legacyName` (the name they were adopted under, with the admin role).
   */
  async adopt(key: string, spec: NewKey & { legacyName?: string }): Promise<ApiKeyRecord> {
    const { legacyName, ...rest } = spec;
    let record: ApiKeyRecord;
    if (this.#store.putIfAbsent)
      record = await this.#store.putIfAbsent(await this.#record(randomToken(9), key, rest));
    else
      record =
        (await this.#store.getByHash(await this.#sha256(encoder.encode(key)))) ??
        (await this.#put(randomToken(9), key, rest));
    if (rest.slot === undefined) return record;
    if (record.slot !== rest.slot && record.revokedAtMs === undefined) {
      record = { ...record, slot: rest.slot };
      await this.#store.put(record);
    }
    const fillsSlot = (r: ApiKeyRecord) =>
      r.slot === rest.slot ||
      (r.slot === undefined && legacyName !== undefined && r.name === legacyName && r.role === 'admin');
    for (const old of await this.#store.list()) {
      if (old.id !== record.id && old.revokedAtMs === undefined && fillsSlot(old)) await this.revoke(old.id);
    }
    return record;
  }

  async #put(id: string, key: string, spec: NewKey): Promise<ApiKeyRecord> {
    const record = await this.#record(id, key, spec);
    await this.#store.put(record);
    return record;
  }

  async #record(id: string, key: string, spec: NewKey): Promise<ApiKeyRecord> {
    const role = spec.role ?? 'app';
    const limits = role === 'admin' ? ADMIN_KEY_LIMITS : DEFAULT_KEY_LIMITS;
    return {
      id,
      name: spec.name,
      hash: await this.#sha256(encoder.encode(key)),
      role,
      ...(spec.models ? { models: spec.models } : {}),
      ...(spec.region ? { region: spec.region } : {}),
      ratePerSecond: spec.ratePerSecond ?? limits.ratePerSecond,
      burst: spec.burst ?? limits.burst,
      dailyQuota: spec.dailyQuota ?? limits.dailyQuota,
      createdAtMs: this.#now(),
      ...(spec.slot ? { slot: spec.slot } : {}),
      ...(spec.expiresAtMs ? { expiresAtMs: spec.expiresAtMs } : {}),
    };
  }

  /** The key's record, or UNAUTHORIZED saying why (unknown, revoked, expired). */
  async authenticate(key: string): Promise<ApiKeyRecord> {
    return usableKey(await this.#store.getByHash(await this.#sha256(encoder.encode(key))), this.#now());
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.#store.list();
  }

  async revoke(id: string): Promise<ApiKeyRecord> {
    const record = await this.#store.getById(id);
    if (!record) throw new HexEdgeError('NOT_FOUND', `no API key with id ${JSON.stringify(id)}`);
    const revoked = { ...record, revokedAtMs: record.revokedAtMs ?? this.#now() };
    await this.#store.put(revoked);
    return revoked;
  }
}

/** `record` if it may be used at `nowMs`, else UNAUTHORIZED saying why (unknown, revoked, expired). */
export function usableKey(record: ApiKeyRecord | undefined, nowMs: number): ApiKeyRecord {
  if (!record) throw new HexEdgeError('UNAUTHORIZED', 'API key is not valid');
  if (record.revokedAtMs !== undefined)
    throw new HexEdgeError('UNAUTHORIZED', `API key ${record.id} was revoked`);
  if (record.expiresAtMs !== undefined && record.expiresAtMs <= nowMs) {
    throw new HexEdgeError(
      'UNAUTHORIZED',
      `API key ${record.id} expired at ${new Date(record.expiresAtMs).toISOString()}`,
    );
  }
  return record;
}
