#!/usr/bin/env node
// The `hexedge` command. It runs the TypeScript sources directly (Node >= 22.18 strips types), so a
// fresh clone needs no build step. npm puts the project's own Node 22 (the `node` devDependency) first
// on PATH for `npm start` and `npx hexedge`.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `hexedge needs Node >= 22.18 (this is ${process.version}). Run it through npm (npm start, npx hexedge), ` +
      'which uses the Node 22 that `npm install` put in node_modules/.bin.',
  );
  process.exit(1);
}
await import('../src/main.ts');
