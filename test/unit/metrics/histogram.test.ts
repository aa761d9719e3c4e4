import { describe, expect, it } from 'vitest';
import { ValueHistogram } from '../../../src/metrics/histogram.js';

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
    for (const value of [1, 1e-100, 1e100, 2 ** -350, 2 ** 350]) histogram.add(value);
    const [part] = histogram.parts();
    expect(part!.values).toEqual([2 ** -350, 1e-100, 1, 1e100, 2 ** 350]);
  });
});
