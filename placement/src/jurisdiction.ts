import { featuresContaining, feature } from '@rapideditor/country-coder';
import { HexEdgeError, type LatLng } from '@hexedge/protocol';

/**
 * Jurisdiction from @rapideditor/country-coder (offline borders, territorial waters included). A region
 * is any feature it knows: an ISO 3166-1 country (`DE`), a union (`eu`), a UN M49 area (`150`, or its
 * English name `Europe`). Membership is computed once per node location, so the per-request check is
 * a scan of a handful of ids.
 */
const resolved = new Map<string, string | null>();

/** The canonical id of a region code (`eu` → `EU`); an unknown code is refused, naming it. */
export function resolveRegion(code: string): string {
  let id = resolved.get(code);
  if (id === undefined) {
    const wellFormed = typeof code === 'string' && /^[A-Za-z0-9]{2,32}$/.test(code);
    const found: unknown = wellFormed ? feature(code)?.properties.id : undefined;
    id = typeof found === 'string' ? found : null;
    // Bounded: only codes country-coder knows (a few hundred, times spellings) are cached.
    if (id !== null) resolved.set(code, id);
  }
  if (id === null) {
    throw new HexEdgeError('INVALID_REQUEST', `unknown region code ${JSON.stringify(code)}: use an ISO 3166-1 code such as "DE" or a region such as "eu"`, {
      field: 'policy.region',
    });
  }
  return id;
}

export function isKnownRegion(code: string): boolean {
  try {
    resolveRegion(code);
    return true;
  } catch {
    return false;
  }
}

/** Ids of every region containing a point (country, unions, M49 areas); empty at sea. */
export function regionsAt(location: LatLng): string[] {
  return featuresContaining([location.lng, location.lat]).map((f) => f.properties.id);
}
