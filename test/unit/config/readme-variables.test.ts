// Every environment variable the code reads is documented: the kit's (through its schema) in the
// configuration reference, the examples' (read by name) in the README or the guides.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environmentSchema } from '../../../src/config/environment.js';
import { powertoolsVariables } from '../../../src/config/powertools.js';

const root = new URL('../../../', import.meta.url).pathname;
const reference = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || path === join(root, 'docs', 'api')) return [];
    return statSync(path).isDirectory() ? files(path, pattern) : pattern.test(name) ? [path] : [];
  });
}

/** Names of the environment variables a file reads as `process.env.NAME` or `process.env['NAME']`. */
function variablesRead(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)].map(
    (m) => (m[1] ?? m[2])!,
  );
}

const documentedIn = (text: string) => (name: string) =>
  text.includes(`\`${name}\``) || text.includes(`${name}=`);
const code = /\.(ts|mjs|cjs|js)$/;

describe('every environment variable the code reads', () => {
  it('appears in docs/configuration.md (the kit: its schema and what src/ reads)', () => {
    const names = new Set<string>(Object.keys(environmentSchema));
    for (const file of files(join(root, 'src'), code))
      for (const name of variablesRead(file)) names.add(name);
    expect(names.size).toBeGreaterThan(5);
    expect([...names].filter((name) => !documentedIn(reference)(name))).toEqual([]);
  });

  it('appears in docs/configuration.md: the POWERTOOLS_* ones the kit warns of, with their equivalent', () => {
    const missing = Object.entries(powertoolsVariables).filter(
      ([name, { use }]) => !reference.includes(`| \`${name}\` | \`${use.split(/[ =]/)[0]}`),
    );
    expect(missing).toEqual([]);
  });

  it('appears in the README or the guides (the examples)', () => {
    const docs = [join(root, 'README.md'), ...files(join(root, 'docs'), /\.md$/)]
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const names = new Set(files(join(root, 'examples'), code).flatMap(variablesRead));
    expect(names.size).toBeGreaterThan(2);
    expect([...names].filter((name) => !documentedIn(docs)(name))).toEqual([]);
  });
});
