// Node-only parts of the oracle: the SQLite store, key file, log export, and the deployable's builder.
export {
  exportLogFiles,
  loadOrCreateOracleKey,
  nodeSha256Hex,
  ORACLE_KEY_FILE,
  SqliteOracleStore,
} from '../adapters/node.ts';
export { buildOracle, type RefereeFactory, type RunningOracle } from './build-oracle.ts';
