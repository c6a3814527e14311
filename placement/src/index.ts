export * from './node-record.ts';
export * from './node-registry.ts';
export * from './node-index.ts';
export * from './placement.ts';
