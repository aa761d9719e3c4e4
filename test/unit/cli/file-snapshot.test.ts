import { mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffSnapshots, snapshotFiles } from '../../../src/cli/file-snapshot.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ark-cli-files-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('snapshotFiles and diffSnapshots', () => {
  it('reports created, modified and deleted files, skipping node_modules, .git and given paths', async () => {
    mkdirSync(join(root, 'data'));
    mkdirSync(join(root, 'node_modules/pkg'), { recursive: true });
    mkdirSync(join(root, '.git'));
    mkdirSync(join(root, 'tmp'));
    writeFileSync(join(root, 'server.js'), 'x');
    writeFileSync(join(root, 'data/old.json'), '{}');
    writeFileSync(join(root, 'gone.txt'), 'bye');
    const before = await snapshotFiles(root, { skipPaths: [join(root, 'tmp')] });
    expect([...before.files.keys()]).toEqual(['data/old.json', 'gone.txt', 'server.js']);

    writeFileSync(join(root, 'data/new.json'), '{"a":1}');
    writeFileSync(join(root, 'data/old.json'), '{"changed":true}');
    utimesSync(join(root, 'server.js'), new Date(), new Date(Date.now() + 5000));
    unlinkSync(join(root, 'gone.txt'));
    writeFileSync(join(root, 'node_modules/pkg/cache'), 'ignored');
    writeFileSync(join(root, '.git/index'), 'ignored');
    writeFileSync(join(root, 'tmp/scratch'), 'ignored');
    const after = await snapshotFiles(root, { skipPaths: [join(root, 'tmp')] });

    expect(diffSnapshots(before, after)).toEqual({
      created: ['data/new.json'],
      modified: ['data/old.json', 'server.js'],
      deleted: ['gone.txt'],
    });
  });

  it('stops at maxEntries and at maxDepth, and says so', async () => {
    for (let i = 0; i < 10; i += 1) writeFileSync(join(root, `f${i}`), '');
    const capped = await snapshotFiles(root, { maxEntries: 4 });
    expect(capped.files.size).toBe(4);
    expect(capped.truncated).toBe(true);

    mkdirSync(join(root, 'a/b/c'), { recursive: true });
    writeFileSync(join(root, 'a/b/c/deep'), '');
    const shallow = await snapshotFiles(root, { maxDepth: 1 });
    expect(shallow.truncated).toBe(true);
    expect(shallow.files.has('a/b/c/deep')).toBe(false);
    expect((await snapshotFiles(root)).truncated).toBe(false);
  });
});
