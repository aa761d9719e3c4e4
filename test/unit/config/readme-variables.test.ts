import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environmentSchema } from '../../../src/config/environment.js';

const root = new URL('../../../', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    return statSync(path).isDirectory() ? files(path) : /\.(ts|mjs|cjs|js)$/.test(name) ? [path] : [];
  });
}

/** Names of the environment variables a file reads as `process.env.NAME` or `process.env['NAME']`. */
function variablesRead(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)].map(
    (m) => (m[1] ?? m[2])!,
  );
}

describe('every environment variable the code reads', () => {
  it('appears in the README (the kit through its schema, the examples by name)', () => {
    const names = new Set<string>(Object.keys(environmentSchema));
    for (const file of [...files(join(root, 'src')), ...files(join(root, 'examples'))]) {
      for (const name of variablesRead(file)) names.add(name);
    }
    expect(names.size).toBeGreaterThan(5);
    const missing = [...names].filter(
      (name) => !readme.includes(`\`${name}\``) && !readme.includes(`${name}=`),
    );
    expect(missing).toEqual([]);
  });
});
