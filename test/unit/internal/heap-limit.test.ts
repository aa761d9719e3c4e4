import { writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { heapLimitWarning } from '../../../src/internal/heap-limit.js';
import { temporaryDirectory } from '../../support/temp-dir.js';

const wording = { option: 'maxHeapUsedBytes', missed: 'first' };
const saved = process.env.NODE_OPTIONS;
afterEach(() => {
  if (saved === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = saved;
});

/** The limit a threshold is warned of against, under `nodeOptions`. */
function limitUnder(nodeOptions: string): number | undefined {
  process.env.NODE_OPTIONS = nodeOptions;
  return heapLimitWarning(Number.MAX_SAFE_INTEGER, wording)?.fields.heapLimit;
}

describe('heapLimitWarning', () => {
  const constrained = process.constrainedMemory();
  const available = constrained > 0 && constrained < totalmem() ? constrained : totalmem();

  it("takes --max-old-space-size's old generation, not V8's heap_size_limit, which adds the young one's room", () => {
    expect(limitUnder('--max-old-space-size=128')).toBe(128 * 2 ** 20);
    expect(limitUnder('--max_old_space_size=64')).toBe(64 * 2 ** 20);
  });

  it('takes --max-old-space-size-percentage of the memory the process may use, over --max-old-space-size, as Node does', () => {
    const share = Math.floor(0.01 * available);
    expect(limitUnder('--max-old-space-size-percentage=1')).toBe(share);
    expect(limitUnder('--max-old-space-size-percentage=1 --max-old-space-size=64')).toBe(share);
    expect(limitUnder('--max-old-space-size=64 --max-old-space-size-percentage=1')).toBe(share);
  });

  it("falls back to V8's heap_size_limit without a flag, or with one above it", () => {
    const { heap_size_limit: v8Limit } = getHeapStatistics();
    expect(limitUnder('')).toBe(v8Limit);
    expect(limitUnder('--max-old-space-size=0')).toBe(v8Limit);
    expect(limitUnder(`--max-old-space-size=${Math.ceil(v8Limit / 2 ** 20) + 1}`)).toBe(v8Limit);
  });

  it("takes --max-old-space-size-percentage from Node's config file (where NODE_OPTIONS is unset), and says to raise it", () => {
    const dir = temporaryDirectory('ark-heap-limit-');
    const file = join(dir, 'node.config.json');
    writeFileSync(file, JSON.stringify({ nodeOptions: { 'max-old-space-size-percentage': 1 } }));
    const execArgv = process.execArgv;
    process.execArgv = [...execArgv, `--experimental-config-file=${file}`];
    try {
      delete process.env.NODE_OPTIONS;
      const warning = heapLimitWarning(Number.MAX_SAFE_INTEGER, wording);
      expect(warning?.fields.heapLimit).toBe(Math.floor(0.01 * available));
      expect(warning?.message).toMatch(/or raise --max-old-space-size-percentage$/);
    } finally {
      process.execArgv = execArgv;
    }
  });

  it('warns of nothing under the limit', () => {
    process.env.NODE_OPTIONS = '--max-old-space-size=128';
    expect(heapLimitWarning(128 * 2 ** 20 - 1, wording)).toBeUndefined();
    expect(heapLimitWarning(128 * 2 ** 20, wording)?.message).toContain(
      "the heap's limit (--max-old-space-size=128)",
    );
  });
});
