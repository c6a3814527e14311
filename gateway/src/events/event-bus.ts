import { trimOldest } from '@hexedge/protocol';
/**
 * Who may see an event. Public events feed the network map; `key` events belong to one API key (a
 * developer's requests); `fleet` events belong to a fleet and, once fleets have owners, to its key.
 */
export type EventAudience = { kind: 'public' } | { kind: 'key'; keyId: string } | { kind: 'fleet'; fleet: string; ownerKeyId?: string };

export interface GatewayEvent<T = unknown> {
  /** Increasing per bus: an SSE `id`, so a client can tell what it has already seen. */
  id: number;
  type: string;
  atMs: number;
  audience: EventAudience;
  data: T;
}

export type EventInput<T = unknown> = Pick<GatewayEvent<T>, 'type' | 'audience' | 'data'> & { atMs?: number };
export type EventListener = (event: GatewayEvent) => void;

/** Events kept per audience for late subscribers (a page opened after the fact sees recent history). */
export const DEFAULT_RETAINED_PER_AUDIENCE = 500;
/** Audiences remembered at once; the least recently published one is forgotten first. Bounds memory. */
export const MAX_AUDIENCES = 1_000;

const audienceKey = (a: EventAudience): string => (a.kind === 'public' ? 'public' : a.kind === 'key' ? `key:${a.keyId}` : `fleet:${a.fleet}`);

/**
 * In-process publish/subscribe for what the dashboards show live. Runtime-neutral (no timers, no
 * I/O), so the gateway, the MQTT ingress and the firmware bridge can all publish to the one the
 * composition root hands them; several gateway instances would put a broker behind this interface.
 */
export class EventBus {
  readonly #listeners = new Set<{ filter: (e: GatewayEvent) => boolean; listener: EventListener }>();
  /** Insertion order doubles as recency: a publish re-inserts its audience at the end. */
  readonly #retained = new Map<string, GatewayEvent[]>();
  readonly #retainPerAudience: number;
  readonly #now: () => number;
  #nextId = 1;

  constructor(options: { retainPerAudience?: number; now?: () => number } = {}) {
    this.#retainPerAudience = options.retainPerAudience ?? DEFAULT_RETAINED_PER_AUDIENCE;
    this.#now = options.now ?? Date.now;
  }

  publish<T>(input: EventInput<T>): GatewayEvent<T> {
    const event: GatewayEvent<T> = { id: this.#nextId++, type: input.type, atMs: input.atMs ?? this.#now(), audience: input.audience, data: input.data };
    const key = audienceKey(event.audience);
    const ring = this.#retained.get(key) ?? [];
    this.#retained.delete(key);
    ring.push(event);
    // Trimmed a quarter past the retained count (amortised O(1): a splice on every publish shifts the
    // whole ring, ~2 µs at 500); readers look at the newest #retainPerAudience only.
    if (ring.length >= this.#retainPerAudience + Math.max(16, this.#retainPerAudience >> 2))
      ring.splice(0, ring.length - this.#retainPerAudience);
    this.#retained.set(key, ring);
    trimOldest(this.#retained, MAX_AUDIENCES);
    for (const { filter, listener } of this.#listeners) {
      if (!filter(event)) continue;
      try {
        listener(event);
      } catch {
        // A broken subscriber (a closed stream) must not stop delivery to the others.
      }
    }
    return event;
  }

  /** Calls `listener` for every later event that passes `filter`; returns the unsubscribe function. */
  subscribe(filter: (e: GatewayEvent) => boolean, listener: EventListener): () => void {
    const entry = { filter, listener };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** Retained events passing `filter`, oldest first, at most `limit` (the newest ones). */
  recent(filter: (e: GatewayEvent) => boolean, limit = this.#retainPerAudience): GatewayEvent[] {
    const out: GatewayEvent[] = [];
    for (const ring of this.#retained.values())
      for (let i = Math.max(0, ring.length - this.#retainPerAudience); i < ring.length; i++)
        if (filter(ring[i]!)) out.push(ring[i]!);
    out.sort((a, b) => a.id - b.id);
    return out.slice(-limit);
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }
}
