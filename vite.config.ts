/**
 * Vite serves and builds the page. Both the dev server (`npm start`) and `npm run preview` send
 * COOP same-origin + COEP require-corp: without cross-origin isolation the browser withholds
 * SharedArrayBuffer, and the lab's controller queues and live stats live in shared memory.
 * Workers are ES modules (`new Worker(new URL(...), { type: 'module' })`).
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// Fixed ports (strictPort: fail rather than wander) so people and Playwright's webServer, which
// passes the same port, find the page at one address.
const DEV_PORT = 5173;
const PREVIEW_PORT = 4173;

export default defineConfig({
  plugins: [react()],
  server: { host: '127.0.0.1', port: DEV_PORT, strictPort: true, headers: crossOriginIsolation },
  preview: { host: '127.0.0.1', port: PREVIEW_PORT, strictPort: true, headers: crossOriginIsolation },
  worker: { format: 'es' },
});
