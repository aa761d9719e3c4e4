import { describe, expect, it } from 'vitest';

// scripts/test.sh runs each part of `npm test` through scripts/node.sh, which sets EXPECT_NODE_MAJOR:
// a PATH that put another Node first fails here, loudly, instead of passing on the wrong line.
const expected = process.env.EXPECT_NODE_MAJOR;
const major = Number.parseInt(process.versions.node, 10);

describe(`the Node.js line (${process.version})`, () => {
  it(
    expected === undefined
      ? 'is a supported line (22 or newer)'
      : `is the one this part of the run asked for (${expected})`,
    () => {
      if (expected === undefined) expect(major).toBeGreaterThanOrEqual(22);
      else expect(major).toBe(Number(expected));
    },
  );
});
