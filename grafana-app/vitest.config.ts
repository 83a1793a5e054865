import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    // @grafana/* ship ESM that imports CSS and CommonJS named exports: let Vite transform them.
    server: { deps: { inline: [/@grafana\//, /@rc-component\//, /rc-picker/] } },
  },
});
