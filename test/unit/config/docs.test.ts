// The configuration reference (docs/configuration.md) against the code: the environment table is the
// one rendered from the schema, and every option the code accepts, to two levels, has a row.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { environmentSchema, renderEnvironmentTable } from '../../../src/config/environment.js';

const root = new URL('../../../', import.meta.url).pathname;
const reference = readFileSync(`${root}docs/configuration.md`, 'utf8');

/** Every option of BootstrapOptions, and `section.key` for the keys of each of the kit's option objects. */
function optionPaths(): string[] {
  const file = `${root}src/config/options.ts`;
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const declaration = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'BootstrapOptions',
  )!;
  const paths: string[] = [];
  for (const option of checker.getPropertiesOfType(checker.getTypeAtLocation(declaration))) {
    paths.push(option.name);
    const type = checker.getNonNullableType(checker.getTypeOfSymbol(option));
    // Descend into the kit's own option objects (`LoggingOptions`, …), not into foreign types.
    const symbol = type.getSymbol();
    const declaredIn = symbol?.declarations?.[0]?.getSourceFile().fileName ?? '';
    if (!declaredIn.startsWith(`${root}src/`) || !/Options$/.test(symbol!.name)) continue;
    for (const key of checker.getPropertiesOfType(type)) paths.push(`${option.name}.${key.name}`);
  }
  return paths;
}

/**
 * The options the reference's table names: a row's first cell lists `a.b` / `c` / `d`, the later names
 * relative to the first one's parent; each name documents its parents too.
 */
function documentedOptions(): Set<string> {
  const section = reference.slice(
    reference.indexOf('## Options'),
    reference.indexOf('## Environment variables'),
  );
  const names = new Set<string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const cell = row.split('|')[1]!;
    const [first, ...rest] = [...cell.matchAll(/`([\w.]+)`/g)].map((m) => m[1]!);
    const parent = first!.includes('.') ? first!.slice(0, first!.lastIndexOf('.') + 1) : '';
    for (const name of [first!, ...rest.map((r) => (r.includes('.') ? r : parent + r))]) {
      const parts = name.split('.');
      for (let i = 1; i <= parts.length; i++) names.add(parts.slice(0, i).join('.'));
    }
  }
  return names;
}

describe('the configuration reference, docs/configuration.md', () => {
  it('has the environment table rendered from the schema (run `npm run docs:env` after changing it)', () => {
    const start = reference.indexOf('<!-- env-table:start -->');
    const end = reference.indexOf('<!-- env-table:end -->');
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const documented = reference.slice(start + '<!-- env-table:start -->'.length, end).trim();
    expect(documented).toBe(renderEnvironmentTable());
  });

  it('documents every variable the config parser reads', () => {
    for (const name of Object.keys(environmentSchema)) expect(reference).toContain(`| \`${name}\` |`);
  });

  it("has a row for every option, and each option object's keys", () => {
    const paths = optionPaths();
    expect(paths).toEqual(expect.arrayContaining(['app', 'shutdown.timeoutMs', 'tracing.mode']));
    const documented = documentedOptions();
    expect(paths.filter((p) => !documented.has(p))).toEqual([]);
  });

  it('recognises an option missing from the table', () => {
    expect(documentedOptions().has('shutdown.timeoutMs')).toBe(true);
    expect(documentedOptions().has('shutdown.noSuchOption')).toBe(false);
  });
});
