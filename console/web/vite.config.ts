import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built into console/web/dist and served by the console server (same origin: the session
// cookie and CSRF token need no CORS). `vite` (dev) proxies the API to a running console.
const root = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/api': process.env.WHARF_CONSOLE_URL ?? 'http://127.0.0.1:32600',
      '/socket.io': { target: process.env.WHARF_CONSOLE_URL ?? 'http://127.0.0.1:32600', ws: true },
    },
  },
});
