import { defineConfig } from 'vite';

// The gateway serves the build at /dashboard/: relative asset URLs keep it working under any prefix.
// Everything (world outlines, h3, uPlot) is bundled; no runtime fetch leaves the gateway.
export default defineConfig({
  base: './',
  build: {
    target: 'es2022',
    outDir: 'dist',
    // One JS and one CSS file: the page loads from a gateway on a constrained edge link.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w @hexedge/dashboards` with a running `hexedge dev` on the default port.
    proxy: { '/v1': 'http://127.0.0.1:8787' },
  },
});
