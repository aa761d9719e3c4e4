import { describe, expect, it } from 'vitest';
import { isoTimeChunk } from '../../../src/logging/iso-time.js';

const expected = (ms: number) => `,"time":"${new Date(ms).toISOString()}"`;

describe('isoTimeChunk', () => {
  it("reads as Date's ISO string at every millisecond, across second, minute, day and year boundaries", () => {
    const starts = [
      Date.UTC(2026, 11, 3, 23, 59, 58, 990),
      Date.UTC(2026, 11, 31, 23, 59, 59, 500),
      Date.UTC(2028, 1, 28, 23, 59, 59, 0), // into a leap day
      0,
    ];
    for (const start of starts) {
      for (let ms = start; ms < start + 2_100; ms++) expect(isoTimeChunk(ms)).toBe(expected(ms));
    }
  });

  it('follows time backwards and jumps (a clock step), not only forwards', () => {
    const later = Date.UTC(2026, 11, 3, 12, 0, 0, 123);
    const earlier = Date.UTC(2026, 11, 3, 11, 59, 59, 999);
    const sameSecondEarlier = Date.UTC(2026, 11, 3, 12, 0, 0, 7);
    for (const ms of [later, earlier, later, sameSecondEarlier, later + 86_400_000])
      expect(isoTimeChunk(ms)).toBe(expected(ms));
  });

  it('is the time of now when called without a time', () => {
    const before = Date.now();
    const chunk = isoTimeChunk();
    const after = Date.now();
    const ms = Date.parse(chunk.slice(9, -1));
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });
});
