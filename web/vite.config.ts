import { defineConfig } from 'vite';

// Everything is bundled: the page works offline (no CDN). The contracts package is
// bundled from source so the browser validates with the same schemas as the services.
export default defineConfig({
  root: '.',
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // The gateway's CSP for the app has no 'unsafe-eval': contracts' validators run interpreted (validation.ts).
  define: { __LOOKOUT_NO_EVAL__: 'true' },
  resolve: { alias: { '@lookout/contracts': new URL('../packages/contracts/src/index.ts', import.meta.url).pathname } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022', chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/ws': { target: 'ws://127.0.0.1:8080', ws: true }, '/openapi.json': 'http://127.0.0.1:8080' } },
});
