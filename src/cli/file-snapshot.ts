import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** The files of a directory tree with their modification time and size, at one moment. */
export interface FileSnapshot {
  readonly root: string;
  /** Relative path (with `/`) → `mtimeMs:size`. */
  readonly files: ReadonlyMap<string, string>;
  /** The walk stopped at `maxEntries`: files past it are not watched. */
  readonly truncated: boolean;
}

/** Options of {@link snapshotFiles}. */
export interface SnapshotOptions {
  /** Directory names skipped wherever they are. @default ['node_modules', '.git'] */
  readonly skipNames?: readonly string[];
  /** Absolute directories skipped (the app's temp directory when it lies inside the tree). */
  readonly skipPaths?: readonly string[];
  /** Entries (files and directories) read at most. @default 20000 */
  readonly maxEntries?: number;
  /** Directory depth at most. @default 16 */
  readonly maxDepth?: number;
}

/** What changed between two snapshots. */
export interface FileChanges {
  readonly created: readonly string[];
  readonly modified: readonly string[];
  readonly deleted: readonly string[];
}

/**
 * Records every file under `root` (symbolic links are recorded, not followed), skipping
 * `node_modules` and `.git`. Bounded: at most `maxEntries` entries and `maxDepth` levels, so a huge
 * tree costs a fraction of a second, not minutes; a truncated snapshot says so.
 *
 * @example
 * ```ts
 * const before = await snapshotFiles(cwd);
 * // … run the app …
 * diffSnapshots(before, await snapshotFiles(cwd)); // { created: ['data/state.json'], modified: [], deleted: [] }
 * ```
 */
export async function snapshotFiles(root: string, options: SnapshotOptions = {}): Promise<FileSnapshot> {
  const skipNames = new Set(options.skipNames ?? ['node_modules', '.git']);
  const skipPaths = new Set(options.skipPaths ?? []);
  const maxEntries = options.maxEntries ?? 20_000;
  const maxDepth = options.maxDepth ?? 16;
  const files = new Map<string, string>();
  let entries = 0;
  let truncated = false;

  const walk = async (dir: string, depth: number): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      return; // unreadable or gone: nothing to watch there
    }
    for (const name of names) {
      if (entries >= maxEntries) {
        truncated = true;
        return;
      }
      entries += 1;
      const path = join(dir, name);
      let stats: Awaited<ReturnType<typeof lstat>>;
      try {
        stats = await lstat(path);
      } catch {
        continue;
      }
      if (stats.isDirectory()) {
        if (skipNames.has(name) || skipPaths.has(path)) continue;
        if (depth >= maxDepth) {
          truncated = true;
          continue;
        }
        await walk(path, depth + 1);
      } else {
        files.set(relative(root, path).split(sep).join('/'), `${stats.mtimeMs}:${stats.size}`);
      }
    }
  };
  await walk(root, 0);
  return { root, files, truncated };
}

/** The files created, modified (time or size) and deleted between `before` and `after`. */
export function diffSnapshots(before: FileSnapshot, after: FileSnapshot): FileChanges {
  const created: string[] = [];
  const modified: string[] = [];
  const deleted: string[] = [];
  for (const [path, stamp] of after.files) {
    const previous = before.files.get(path);
    if (previous === undefined) created.push(path);
    else if (previous !== stamp) modified.push(path);
  }
  for (const path of before.files.keys()) if (!after.files.has(path)) deleted.push(path);
  return { created, modified, deleted };
}
