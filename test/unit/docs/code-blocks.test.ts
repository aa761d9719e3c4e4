// Every TypeScript and JavaScript code block of the README and docs/ type-checks against the built
// package (dist/, through package.json "exports", as `import … from 'apprunner-kit'` resolves for a
// user); the test setup builds dist/ when it is missing or older than src/.
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDocs, codeBlocks, markdownFiles, repositoryRoot, typeCheck } from './docs-check.js';

describe('code blocks of the README and docs/', () => {
  const blocks = codeBlocks(markdownFiles());

  it('type-check against the built package', () => {
    expect(typeCheck(blocks)).toEqual([]);
  });

  it('are checked but for a few marked skip, and never a migration guide\'s "After" code', () => {
    const skipped = blocks.filter((b) => b.skipped);
    expect(blocks.length).toBeGreaterThan(30);
    expect(skipped.length).toBeLessThanOrEqual(10);
    expect(skipped.filter((b) => b.file.startsWith('docs/migrating/') && b.heading !== 'Before')).toEqual([]);
  });

  it('reports a broken code block and a broken link planted in a copy of the docs', () => {
    // Arrange: a copy of README.md and docs/, the rest of the repository linked beside them.
    const copy = mkdtempSync(join(tmpdir(), 'ark-docs-copy-'));
    for (const name of readdirSync(repositoryRoot)) {
      if (name === 'docs' || name === 'README.md')
        cpSync(join(repositoryRoot, name), join(copy, name), {
          recursive: true,
          filter: (source) => !source.startsWith(join(repositoryRoot, 'docs', 'api')),
        });
      else symlinkSync(join(repositoryRoot, name), join(copy, name));
    }
    writeFileSync(
      join(copy, 'docs', 'planted.md'),
      [
        '# Planted',
        '',
        'See [the missing guide](missing.md).',
        '',
        '```ts',
        "import { bootstrapAppRunner } from 'apprunner-kit';",
        '',
        'await bootstrapAppRunner({ app, shutdown: { timeoutMs: "soon" } });',
        '```',
        '',
      ].join('\n'),
    );

    // Act
    const problems = checkDocs(copy);
    rmSync(copy, { recursive: true, force: true }); // removes the links, not the repository's files

    // Assert
    expect(problems).toEqual([
      'docs/planted.md:3 → missing.md (no docs/missing.md)',
      expect.stringMatching(/^docs\/planted\.md:8: TS2322 Type 'string' is not assignable to type 'number'/),
    ]);
  });
});
