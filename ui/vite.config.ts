// The operator portal's bundle: `npm run build:ui` writes ui/dist, which the API server
// serves under /ui/ (src/api/portal.ts). Everything is bundled: the portal fetches nothing
// from outside at run time.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/ui/',
  logLevel: 'warn',
  build: {
    outDir: path.join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // One small app: a single chunk loads in one request.
    chunkSizeWarningLimit: 1024,
  },
});
