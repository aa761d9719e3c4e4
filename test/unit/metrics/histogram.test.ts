import { describe, expect, it } from 'vitest';
import { maxBucketsPerSign, ValueHistogram } from '../../../src/metrics/histogram.js';

/** A deterministic pseudo-random sequence (xorshift), so that failures reproduce. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('ValueHistogram', () => {
  it('keeps the exact count, sum, minimum and maximum of 10,000 values', () => {
    const histogram = new ValueHistogram();
    const next = random(7);
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let i = 0; i < 10_000; i++) {
      const value = Math.round(next() * 250_000) / 1000; // 0–250 ms in µs steps
      histogram.add(value);
      sum += value;
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    const parts = histogram.parts();
    expect(parts.reduce((n, part) => n + part.count, 0)).toBe(10_000);
    expect(parts.reduce((s, part) => s + part.sum, 0)).toBeCloseTo(sum, 6);
    expect(parts[0]!.min).toBe(min);
    expect(parts.at(-1)!.max).toBe(max);
    for (const part of parts) {
      expect(part.values.length).toBeLessThanOrEqual(100);
      expect(part.counts.reduce((n, c) => n + c, 0)).toBe(part.count);
    }
  });

  it('places each value within 5 % of its bucket value, so percentiles read from the buckets are that close', () => {
    const histogram = new ValueHistogram();
    const values = [0.05, 0.3, 1, 1.2, 7.5, 42, 99.9, 1_000, 65_000];
    for (const value of values) histogram.add(value);
    const [part] = histogram.parts();
    // One value per bucket here: each bucket's value is the value itself.
    expect(part!.values).toEqual(values);
    const many = new ValueHistogram();
    for (let i = 1; i <= 1_000; i++) many.add(i / 10);
    for (const p of many.parts()) {
      let seen = 0;
      for (let b = 0; b < p.values.length; b++) {
        const first = (seen + 1) / 10;
        const last = (seen + p.counts[b]!) / 10;
        expect(p.values[b]!).toBeGreaterThanOrEqual(first);
        expect(p.values[b]!).toBeLessThanOrEqual(last);
        expect(last / first).toBeLessThan(1.1 + 1e-9);
        seen += p.counts[b]!;
      }
    }
  });

  it('splits a distribution over more than 100 buckets into datapoints of at most 100, smallest first', () => {
    const histogram = new ValueHistogram();
    // 1.1^i spans one bucket each: 250 buckets.
    for (let i = 0; i < 250; i++) histogram.add(1.1 ** i * 1.05);
    const parts = histogram.parts();
    expect(parts.map((p) => p.values.length)).toEqual([100, 100, 50]);
    expect(parts[0]!.max).toBeLessThan(parts[1]!.min);
    expect(parts[1]!.max).toBeLessThan(parts[2]!.min);
    expect(parts.reduce((n, p) => n + p.count, 0)).toBe(250);
  });

  it('takes zero and negative values', () => {
    const histogram = new ValueHistogram();
    for (const value of [-5, -0.5, 0, 0, 2]) histogram.add(value);
    const [part] = histogram.parts();
    expect(part).toEqual({
      values: [-5, -0.5, 0, 2],
      counts: [1, 1, 2, 1],
      min: -5,
      max: 2,
      count: 5,
      sum: -3.5,
    });
  });

  it('starts over after reset, and has no datapoint when empty', () => {
    const histogram = new ValueHistogram();
    expect(histogram.parts()).toEqual([]);
    histogram.add(3);
    histogram.reset();
    expect(histogram.count).toBe(0);
    expect(histogram.parts()).toEqual([]);
    histogram.add(4);
    expect(histogram.parts()).toEqual([{ values: [4], counts: [1], min: 4, max: 4, count: 1, sum: 4 }]);
  });

  it('grows downwards and upwards from the first value', () => {
    const histogram = new ValueHistogram();
    // 2^-12 to 2^22: ten decades, each value in a bucket of its own.
    for (const value of [1, 1e-3, 1e6, 2 ** -12, 2 ** 22]) histogram.add(value);
    const [part] = histogram.parts();
    expect(part!.values).toEqual([2 ** -12, 1e-3, 1, 1e6, 2 ** 22]);
  });

  it('keeps ten decades below the largest value; smaller values share the lowest bucket, still counted', () => {
    const histogram = new ValueHistogram();
    for (const value of [1, 1e-100, 1e100, 2 ** -350, 2 ** 350]) histogram.add(value);
    const parts = histogram.parts();
    expect(parts).toEqual([
      {
        values: [1, 1e100, 2 ** 350],
        counts: [3, 1, 1],
        min: 2 ** -350,
        max: 2 ** 350,
        count: 5,
        sum: 1e100 + 2 ** 350 + 1 + 1e-100 + 2 ** -350,
      },
    ]);
    // Exactly maxBucketsPerSign buckets: every one of them kept apart.
    const wide = new ValueHistogram();
    for (let i = 0; i < maxBucketsPerSign; i++) wide.add(1.1 ** i * 1.05);
    expect(wide.parts().reduce((n, p) => n + p.values.length, 0)).toBe(maxBucketsPerSign);
    wide.add(1.1 ** maxBucketsPerSign * 1.05); // one more above: the two lowest merge
    const merged = wide.parts();
    expect(merged.reduce((n, p) => n + p.values.length, 0)).toBe(maxBucketsPerSign);
    expect(merged[0]!.counts[0]).toBe(2);
    expect(merged[0]!.min).toBe(1.05);
  });

  it('holds at most maxBucketsPerSign buckets per sign, whatever the values', () => {
    const histogram = new ValueHistogram();
    const next = random(11);
    for (let i = 0; i < 20_000; i++) {
      const value = 2 ** (next() * 700 - 350) * (i % 2 === 0 ? 1 : -1);
      histogram.add(value);
    }
    histogram.add(0);
    const parts = histogram.parts();
    expect(parts.reduce((n, p) => n + p.values.length, 0)).toBeLessThanOrEqual(2 * maxBucketsPerSign + 1);
    expect(parts.reduce((n, p) => n + p.count, 0)).toBe(20_001);
    for (let i = 1; i < parts.length; i++) expect(parts[i - 1]!.max).toBeLessThan(parts[i]!.min);
  });

  it('keeps 1,000 distributions of client-supplied extremes within 16 KB each, outside the JS heap too', () => {
    const before = process.memoryUsage().arrayBuffers;
    const histograms: ValueHistogram[] = [];
    for (let s = 0; s < 1_000; s++) {
      const histogram = new ValueHistogram();
      for (const value of [1e-100, 1e100, -1e-100, -1e100]) histogram.add(value);
      histograms.push(histogram);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    // 296 MB before the bound (4,800 buckets of 32 bytes per sign); 16.4 MB with it.
    expect(grown).toBeLessThan(1_000 * 2 * maxBucketsPerSign * 32 * 1.25);
    expect(histograms[999]!.parts()[0]!.counts).toEqual([1, 1, 1, 1]);
  });

  it('gives the same distribution whatever the order the values came in', () => {
    const values = [3, 1e-30, 7e12, 0.5, 1e-20, 42, 9e40, 1e-12, 8e40, 2];
    const forwards = new ValueHistogram();
    for (const value of values) forwards.add(value);
    const backwards = new ValueHistogram();
    for (const value of [...values].reverse()) backwards.add(value);
    expect(backwards.parts()).toEqual(forwards.parts());
    // 9e40 / 1.1^256 ≈ 2e30: the values up to 7e12 share the lowest bucket, read as their largest.
    expect(forwards.parts()[0]!.values).toEqual([7e12, 8e40, 9e40]);
    expect(forwards.parts()[0]!.counts).toEqual([8, 1, 1]);
    // And shuffled: values over 80 decades, with resets between the rounds.
    const next = random(3);
    const wide = Array.from({ length: 300 }, () => 10 ** (next() * 80 - 40) * (next() < 0.3 ? -1 : 1));
    const sorted = new ValueHistogram();
    for (const value of [...wide].sort((a, b) => a - b)) sorted.add(value);
    const shuffled = new ValueHistogram();
    for (let round = 0; round < 10; round++) {
      shuffled.reset();
      const order = [...wide];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const value of order) shuffled.add(value);
      expect(shuffled.parts()).toEqual(sorted.parts());
    }
  });

  it('places the window where the values are after a reset, whatever the last interval held', () => {
    const histogram = new ValueHistogram();
    for (let i = 0; i < 300; i++) histogram.add(1e80 * 1.1 ** i);
    histogram.reset();
    for (const value of [1e-3, 1, 1e3]) histogram.add(value);
    expect(histogram.parts()[0]!.values).toEqual([1e-3, 1, 1e3]);
  });
});
