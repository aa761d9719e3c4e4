import { defineConfig } from 'tsup';

/**
 * One build for every public entry point. `splitting` makes each module system share one chunk
 * between its entry points, so `apprunner-kit` and `apprunner-kit/express` loaded together hold one
 * copy of the internal state; state that must also be shared between the ESM and the CJS build is
 * keyed on `Symbol.for` (see src/internal/process-global.ts).
 */
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'src/adapters/express.ts',
    fastify: 'src/adapters/fastify.ts',
    koa: 'src/adapters/koa.ts',
  },
  format: ['esm', 'cjs'],
  target: 'node20',
  platform: 'node',
  dts: true,
  splitting: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  shims: false,
  // Error classes report their class name as `name`; keep it when esbuild renames on collision.
  keepNames: true,
});
