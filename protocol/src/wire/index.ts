// Every message that crosses a service line, with its path and limits: services import these, never
// declare their own copies.
export * from './latency-challenge.ts';
export * from './latency-challenger.ts';
export * from './latency-probe.ts';
export * from './node-directory.ts';
export * from './oracle-reports.ts';
export * from './oracle-trust.ts';
export * from './oracle-node-report.ts';
