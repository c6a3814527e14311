import { writeFile } from 'node:fs/promises';
import { GENERATED_FILE, gatewayApiSource } from './gateway-api.ts';

// `npm run generate -w @hexedge/client`: rewrites src/generated/gateway-api.ts from the gateway's document.
await writeFile(GENERATED_FILE, await gatewayApiSource());
console.log(`wrote ${GENERATED_FILE}`);
