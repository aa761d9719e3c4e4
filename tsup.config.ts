import { readFile, writeFile } from 'node:fs/promises';
import { defineConfig, type Options, type Plugin } from 'tsup';

/**
 * Rollup, which runs tsup's `treeshake` pass, ends each file with a `//# sourceMappingURL=` line, and
 * tsup then appends its own: the second copy goes. (`treeshake: false` would avoid it, but makes
 * another tool, sucrase, write the CommonJS chunks.)
 */
const oneSourceMapComment: Plugin = {
  name: 'one-source-map-comment',
  async buildEnd({ writtenFiles }) {
    const scripts = writtenFiles.filter(({ name }) => /\.c?js$/.test(name));
    await Promise.all(
      scripts.map(async ({ name }) => {
        const code = await readFile(name, 'utf8');
        const once = code.replace(/(\n\/\/# sourceMappingURL=[^\n]+)\1$/, '$1');
        if (once !== code) await writeFile(name, once);
      }),
    );
  },
};

/**
 * One build for every public entry point. `splitting` makes each module system share one chunk
 * between its entry points, so `apprunner-kit` and `apprunner-kit/express` loaded together hold one
 * copy of the internal state; state that must also be shared between the ESM and the CJS build is
 * keyed on `Symbol.for` (see src/internal/process-global.ts).
 */
const library: Options = {
  entry: {
    index: 'src/index.ts',
    express: 'src/adapters/express.ts',
    fastify: 'src/adapters/fastify.ts',
    koa: 'src/adapters/koa.ts',
    nest: 'src/adapters/nest.ts',
  },
  format: ['esm', 'cjs'],
  target: 'node22',
  platform: 'node',
  dts: true,
  splitting: true,
  sourcemap: true,
  // Not cleaned here: `npm run build` empties dist/ first, while a rebuild by the test setup overwrites
  // in place, so that tests already running against dist/ do not see it vanish.
  clean: false,
  treeshake: true,
  shims: false,
  // Error classes report their class name as `name`; keep it when esbuild renames on collision.
  keepNames: true,
  plugins: [oneSourceMapComment],
};

/**
 * The `apprunner-kit` executable (`apprunner-kit check`): ESM only, no type declarations, one bundle of
 * its own; the banner's `#!` line makes tsup mark dist/cli.js executable.
 */
const cli: Options = {
  entry: { cli: 'src/cli/main.ts' },
  format: ['esm'],
  target: 'node22',
  platform: 'node',
  dts: false,
  splitting: false,
  sourcemap: true,
  clean: false,
  treeshake: true,
  banner: { js: '#!/usr/bin/env node' },
  keepNames: true,
  plugins: [oneSourceMapComment],
};

/**
 * `apprunner-kit/register`, the preload (`node --import` / `--require`): both module systems, each a
 * bundle of its own, so that preloading evaluates the preload's few modules and none of the kit's
 * shared chunks. It shares its state with the kit on `Symbol.for` keys, not through a chunk.
 */
const register: Options = {
  ...library,
  entry: { register: 'src/register.ts' },
  splitting: false,
  // Which build this is, for the preload: only the ESM one adds the loader hook ESM imports need.
  // (`typeof require` cannot tell: esbuild's ESM output defines a `__require` shim.)
  esbuildOptions(options, { format }) {
    options.define = { ...options.define, __APPRUNNER_KIT_FORMAT__: JSON.stringify(format) };
  },
};

export default defineConfig([library, register, cli]);
