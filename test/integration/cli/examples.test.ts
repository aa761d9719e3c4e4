import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllAppGroups } from '../../../src/cli/app-process.js';
import { check, explain, grades } from './check-runner.js';

const examplesDir = new URL('../../../examples/', import.meta.url).pathname;

/**
 * The file an example starts from: package.json's "main", else a `node <file>` start script, else
 * server.mjs. `undefined` for a directory that is not an example.
 */
function entryOf(dir: string): string | undefined {
  const manifest = join(dir, 'package.json');
  if (existsSync(manifest)) {
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
      main?: unknown;
      scripts?: { start?: unknown };
    };
    if (typeof pkg.main === 'string' && existsSync(join(dir, pkg.main))) return pkg.main;
    const start =
      typeof pkg.scripts?.start === 'string' ? /^node\s+(\S+)$/.exec(pkg.scripts.start.trim()) : null;
    if (start?.[1] !== undefined && existsSync(join(dir, start[1]))) return start[1];
  }
  return existsSync(join(dir, 'server.mjs')) ? 'server.mjs' : undefined;
}

// Every examples/<name>/ with a server entry, so that a new example is checked without touching this file.
const examples = readdirSync(examplesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
  .map((e) => ({ name: e.name, dir: join(examplesDir, e.name), entry: entryOf(join(examplesDir, e.name)) }))
  .filter((e): e is { name: string; dir: string; entry: string } => e.entry !== undefined);

// A run cut short by a test timeout never reaches its own clean-up: kill what it started.
afterEach(killAllAppGroups);

describe('every example passes apprunner-kit check', () => {
  it('finds the examples', () => {
    expect(examples.map((e) => e.name)).toContain('node-http');
  });

  it.each(examples.map((e) => [`examples/${e.name}`, `node ${e.entry}`, e] as const))(
    '%s (%s, in its directory)',
    async (_name, _command, { dir, entry }) => {
      const report = await check(
        [process.execPath, entry],
        dir,
        ['--health-path', '/healthz', '--start-timeout', '15'],
        'examples',
      );

      expect(grades(report), explain(report)).toEqual({
        listen: 'pass',
        health: 'pass',
        start: 'pass',
        drain: 'pass',
        logs: 'pass',
        files: 'pass',
      });
    },
  );
});
