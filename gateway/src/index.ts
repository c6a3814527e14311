export * from './app.ts';
export * from './auth.ts';
export * from './location.ts';
export * from './node-client.ts';
export * from './receipt-check.ts';
export * from './routes/infer.ts';
export * from './routes/nodes.ts';
