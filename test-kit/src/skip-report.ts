// The later suites of `npm test` (faults, multihost): report skipped real parts, recorded since the
// unit run's global setup (skip-summary.ts) cleared the record.
export { teardown } from './skip-summary.ts';
