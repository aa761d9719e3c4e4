// Every relative link of the README and the guides resolves: to a file or folder of the repository,
// and, with an anchor, to a heading of that page (GitHub's slugs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokenLinks, markdownFiles, repositoryRoot } from './docs-check.js';

const guides = [
  'docs/README.md',
  'docs/getting-started.md',
  'docs/configuration.md',
  'docs/shutdown.md',
  'docs/health.md',
  'docs/secrets.md',
  'docs/logging.md',
  'docs/tracing.md',
  'docs/metrics.md',
  'docs/load-shedding.md',
  'docs/check.md',
  'docs/deploy/app-runner.md',
  'docs/deploy/ecs-express-mode.md',
  'docs/deploy/ecs-fargate.md',
  'docs/deploy/eks.md',
  'docs/troubleshooting.md',
  'docs/error-codes.md',
  'docs/migrating/README.md',
];

/** Relative targets of the links of a page, resolved from the repository's root. */
function linkedFrom(file: string): Set<string> {
  const text = readFileSync(join(repositoryRoot, file), 'utf8');
  const base = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
  return new Set(
    [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1]!)
      .filter((t) => !/^[a-z]+:/i.test(t))
      .map((t) => join(base, t)),
  );
}

describe('links of the README and docs/', () => {
  it.each(markdownFiles())('%s: every relative link resolves', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  it('reach every guide: each from the guides index, the index and the first steps from the README', () => {
    expect(markdownFiles()).toEqual(expect.arrayContaining(guides));
    const index = linkedFrom('docs/README.md');
    expect(guides.filter((g) => g !== 'docs/README.md' && !index.has(g))).toEqual([]);
    const readme = linkedFrom('README.md');
    expect(
      ['docs/README.md', 'docs/getting-started.md', 'CHANGELOG.md', 'BENCHMARKS.md'].filter(
        (f) => !readme.has(f),
      ),
    ).toEqual([]);
  });

  it('finds a broken file link and a broken anchor (planted)', () => {
    const planted = (path: string) =>
      path === 'README.md'
        ? 'See [nowhere](docs/nowhere.md), [here](#no-such-heading) and [fine](#planted).\n\n## Planted\n'
        : readFileSync(join(repositoryRoot, path), 'utf8');
    expect(brokenLinks('README.md', repositoryRoot, planted)).toEqual([
      'README.md:1 → docs/nowhere.md (no docs/nowhere.md)',
      'README.md:1 → #no-such-heading (no heading #no-such-heading in README.md)',
    ]);
  });
});
