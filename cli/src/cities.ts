import type { LatLng } from '@hexedge/protocol';

/** Real cities `hexedge dev` puts its edge nodes in, one per node, in this order (city-centre coordinates). */
export const DEV_CITIES: readonly ({ name: string } & LatLng)[] = [
  { name: 'amsterdam', lat: 52.3676, lng: 4.9041 },
  { name: 'frankfurt', lat: 50.1109, lng: 8.6821 },
  { name: 'paris', lat: 48.8566, lng: 2.3522 },
  { name: 'london', lat: 51.5072, lng: -0.1276 },
  { name: 'madrid', lat: 40.4168, lng: -3.7038 },
  { name: 'warsaw', lat: 52.2297, lng: 21.0122 },
  { name: 'new-york', lat: 40.7128, lng: -74.006 },
  { name: 'sao-paulo', lat: -23.5558, lng: -46.6396 },
  { name: 'nairobi', lat: -1.2921, lng: 36.8219 },
  { name: 'singapore', lat: 1.3521, lng: 103.8198 },
  { name: 'tokyo', lat: 35.6762, lng: 139.6503 },
  { name: 'sydney', lat: -33.8688, lng: 151.2093 },
];
