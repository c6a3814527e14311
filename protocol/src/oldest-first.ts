/**
 * Insertion-ordered eviction for bounded Maps. `map.delete(map.keys().next().value)` looks simple but
 * is O(holes): a fresh iterator walks past every slot earlier deletes left behind until the table is
 * rehashed, which measured ~7.5 µs per eviction on a full 10 000-entry map here (against ~0.2 µs
 * with a kept cursor). One cursor per map is kept instead; a Map iterator is live (it skips deleted
 * entries and reaches entries added later), so the entry it yields next is always the oldest one
 * still in the map: every entry before it was evicted through it, or deleted and set again (which
 * moves it to the end).
 */
const cursors = new WeakMap<Map<unknown, unknown>, Iterator<[unknown, unknown]>>();

/** Removes and returns the map's oldest entry (insertion order), or undefined when it is empty. */
export function takeOldest<K, V>(map: Map<K, V>): [K, V] | undefined {
  if (map.size === 0) return undefined;
  let cursor = cursors.get(map as Map<unknown, unknown>) as Iterator<[K, V]> | undefined;
  let next = cursor?.next();
  if (!next || next.done) {
    // A finished iterator stays finished: start again from the map's current beginning.
    cursor = map.entries();
    cursors.set(map as Map<unknown, unknown>, cursor as Iterator<[unknown, unknown]>);
    next = cursor.next();
  }
  if (next.done) return undefined;
  map.delete(next.value[0]);
  return next.value;
}

/** Evicts the oldest entries until the map holds at most `maxEntries`; `onEvict` sees each one. */
export function trimOldest<K, V>(
  map: Map<K, V>,
  maxEntries: number,
  onEvict?: (key: K, value: V) => void,
): void {
  while (map.size > maxEntries) {
    const entry = takeOldest(map);
    if (!entry) return;
    onEvict?.(entry[0], entry[1]);
  }
}
