import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { AppRunnerKitError, ConfigurationError } from '../../src/index.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const readManifest = (dir: string) =>
  JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    engines: { node: string };
    exports: Record<string, string | { require?: { types: string } }>;
    typesVersions: Record<string, Record<string, string[]>>;
  };
const manifest = readManifest('.');

/** The names `dts` exports that TypeScript lets a program use as values. */
function valueExportsOf(dts: string): string[] {
  const program = ts.createProgram([dts], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(dts);
  const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
  if (module === undefined) throw new Error(`no module symbol for ${dts}`);
  return checker
    .getExportsOfModule(module)
    .filter((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return (target.flags & ts.SymbolFlags.Value) !== 0;
    })
    .map((symbol) => symbol.name)
    .sort();
}

describe('the declarations', () => {
  it.each(['index', 'express', 'fastify', 'koa', 'nest'])(
    'of %s export as values exactly what the ESM and CJS builds export: nothing compiles that fails when run',
    async (entry) => {
      const esm = Object.keys(await import(join(root, 'dist', `${entry}.js`))).sort();
      const cjs = Object.keys(createRequire(import.meta.url)(join(root, 'dist', `${entry}.cjs`)) as object)
        .filter((name) => name !== '__esModule')
        .sort();
      expect(valueExportsOf(join(root, 'dist', `${entry}.d.ts`))).toEqual(esm);
      expect(valueExportsOf(join(root, 'dist', `${entry}.d.cts`))).toEqual(cjs);
    },
  );

  it('name every type a consumer can infer from them: a declaration build of the consumer reports nothing "not portable"', () => {
    const consumer = mkdtempSync(join(tmpdir(), 'apprunner-kit-consumer-'));
    try {
      mkdirSync(join(consumer, 'node_modules'));
      symlinkSync(root, join(consumer, 'node_modules', 'apprunner-kit'), 'dir');
      writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module' }));
      const file = join(consumer, 'consumer.ts');
      const source = consumerOfEveryProperty(['index', 'express', 'fastify', 'koa', 'nest']);
      writeFileSync(file, source);
      expect(source.split('\n').length).toBeGreaterThan(300);
      const program = ts.createProgram([file], {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        declaration: true,
        emitDeclarationOnly: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
        outDir: join(consumer, 'out'),
      });
      const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics].map((d) =>
        ts.flattenDiagnosticMessageText(d.messageText, ' '),
      );
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(consumer, { recursive: true, force: true });
    }
  });
});

/**
 * A consumer's module that reads every property of every object type `entries` export, as a function
 * whose return type TypeScript infers: its declarations name each property's type, as a consumer's
 * own `declaration: true` build must.
 */
function consumerOfEveryProperty(entries: readonly string[]): string {
  const files = entries.map((entry) => join(root, 'dist', `${entry}.d.ts`));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const lines: string[] = [];
  entries.forEach((entry, e) => {
    const source = program.getSourceFile(files[e] as string);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`no module symbol for ${entry}`);
    const specifier = entry === 'index' ? 'apprunner-kit' : `apprunner-kit/${entry}`;
    lines.push(`import type * as e${e} from '${specifier}';`);
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      if ((target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) === 0) continue;
      const declared = checker.getDeclaredTypeOfSymbol(target);
      if ((declared as ts.InterfaceType).typeParameters?.length) continue;
      for (const property of checker.getPropertiesOfType(declared)) {
        if (property.name.startsWith('#') || property.name.startsWith('__')) continue;
        const name = `p${lines.length}`;
        lines.push(
          `export const ${name} = (x: e${e}.${symbol.name}) => x[${JSON.stringify(property.name)}];`,
        );
      }
    }
  });
  return lines.join('\n');
}

describe('package.json', () => {
  it('builds dist/ before packing: dist/ is not in git, so a fresh clone would publish without it', () => {
    expect(manifest.scripts.prepack).toBe('npm run build');
    expect(manifest.scripts.build).toMatch(/\btsup\b/);
  });

  it('maps each subpath to its CommonJS types for TypeScript without exports support (moduleResolution node10)', () => {
    const subpaths = Object.entries(manifest.exports).flatMap(([path, target]) =>
      path === '.' || typeof target === 'string' ? [] : [[path.slice(2), [target.require?.types]]],
    );
    expect(manifest.typesVersions['*']).toEqual(Object.fromEntries(subpaths));
  });

  it('asks for Node.js 22.12 or newer, as the examples do: older 22s lack the HTTP client channels tracing reads', () => {
    expect(manifest.engines.node).toBe('>=22.12');
    for (const example of ['express', 'fastify', 'koa']) {
      expect(readManifest(`examples/${example}`).engines.node).toBe(manifest.engines.node);
    }
  });
});

describe('the built package', () => {
  it('bundles no third-party code: every package it imports is a dependency or a peer dependency', () => {
    // tsup bundles any import it is not told is external: a peer missing from package.json ends up
    // copied into dist/, where it no longer follows the user's installed line (found with
    // @opentelemetry/sdk-trace). The source maps name every file a bundle was made from.
    const dist = join(root, 'dist');
    const bundled = readdirSync(dist)
      .filter((file) => file.endsWith('.map'))
      .flatMap((file) => {
        const map = JSON.parse(readFileSync(join(dist, file), 'utf8')) as { sources: string[] };
        return map.sources.filter((source) => source.includes('node_modules/')).map((s) => `${file}: ${s}`);
      });
    expect(bundled).toEqual([]);
  });

  it('ends each script with one source map comment', () => {
    const dist = join(root, 'dist');
    const scripts = readdirSync(dist).filter((file) => /\.c?js$/.test(file));
    const counts = scripts.map((file) => {
      const comments = readFileSync(join(dist, file), 'utf8').match(/^\/\/# sourceMappingURL=/gm);
      return [file, comments?.length ?? 0];
    });
    expect(counts).toEqual(scripts.map((file) => [file, 1]));
  });

  it('shares one request context and one error brand between the ESM and CJS builds and entry points', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'test/fixtures/dual-package.cjs')], {
      cwd: root,
    });
    const report = JSON.parse(stdout);
    expect(report.seen).toEqual({
      esmCore: 'shared-1',
      cjsCore: 'shared-1',
      cjsExpress: 'shared-1',
      esmKoa: 'shared-1',
    });
    expect(report.errors).toEqual({
      cjsErrorIsEsmBase: true,
      esmErrorIsCjsClass: true,
      adapterErrorIsEsmClass: true,
      adapterErrorCode: 'ARK_APP_UNSUPPORTED',
      adapterErrorName: 'UnsupportedAppError',
      notConfusedWithOtherClass: false,
    });
  });

  it('recognises errors from a second installed copy of the package', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'apprunner-kit-copy-'));
    try {
      cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
      writeFileSync(join(copy, 'package.json'), JSON.stringify({ type: 'module' }));
      // The copy resolves its own dependency (pino) from a node_modules beside it.
      symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
      const other = (await import(join(copy, 'dist/index.js'))) as typeof import('../../src/index.js');
      expect(other.ConfigurationError).not.toBe(ConfigurationError);
      const foreign = new other.ConfigurationError('PORT', 'bad');
      expect(foreign).toBeInstanceOf(ConfigurationError);
      expect(foreign).toBeInstanceOf(AppRunnerKitError);
      expect(new ConfigurationError('PORT', 'bad')).toBeInstanceOf(other.AppRunnerKitError);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
