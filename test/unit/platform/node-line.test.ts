import { describe, expect, it } from 'vitest';

// scripts/test.sh runs each part of `npm test` through scripts/node.sh, which sets EXPECT_NODE_MAJOR:
// a PATH that put another Node first fails here, loudly, instead of passing on the wrong line.
const expected = process.env.EXPECT_NODE_MAJOR;
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

describe(`the Node.js line (${process.version})`, () => {
  it(
    expected === undefined
      ? 'is a supported release (22.12 or newer, as engines.node says)'
      : `is the one this part of the run asked for (${expected})`,
    () => {
      if (expected === undefined) expect(major > 22 || (major === 22 && minor >= 12)).toBe(true);
      else expect(major).toBe(Number(expected));
    },
  );
});
