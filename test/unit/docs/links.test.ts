// Every relative link of the README and the guides resolves: to a file or folder of the repository,
// and, with an anchor, to a heading of that page (GitHub's slugs).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../..', import.meta.url).pathname;

function markdownFiles(): string[] {
  const found = ['README.md', 'CHANGELOG.md'];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir))) {
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens; repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (heading === null) continue;
    const slug = heading[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** `[text](target)` links outside code blocks and inline code, with their line numbers. */
function links(markdown: string): { target: string; line: number }[] {
  const found: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((text, i) => {
    if (text.startsWith('```')) fenced = !fenced;
    if (fenced) return;
    for (const match of text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g))
      found.push({ target: match[1]!, line: i + 1 });
  });
  return found;
}

function brokenLinks(
  file: string,
  read: (path: string) => string = (p) => readFileSync(join(root, p), 'utf8'),
): string[] {
  const broken: string[] = [];
  for (const { target, line } of links(read(file))) {
    if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const resolved = path === '' ? file : relative(root, join(root, dirname(file), path));
    if (!existsSync(join(root, resolved))) {
      broken.push(`${file}:${line} → ${target} (no ${resolved})`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor))
      broken.push(`${file}:${line} → ${target} (no heading #${anchor} in ${resolved})`);
  }
  return broken;
}

describe('links of the README and docs/', () => {
  it.each(markdownFiles())('%s: every relative link resolves', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  it('finds a broken file link and a broken anchor (planted)', () => {
    const planted = (path: string) =>
      path === 'README.md'
        ? 'See [nowhere](docs/nowhere.md), [here](#no-such-heading) and [fine](#planted).\n\n## Planted\n'
        : readFileSync(join(root, path), 'utf8');
    expect(brokenLinks('README.md', planted)).toEqual([
      'README.md:1 → docs/nowhere.md (no docs/nowhere.md)',
      'README.md:1 → #no-such-heading (no heading #no-such-heading in README.md)',
    ]);
  });
});
