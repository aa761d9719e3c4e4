import { emfLimits } from './limits.js';

/**
 * One datapoint of a distribution as EMF writes it: `Values` and how often each occurred (`Counts`),
 * so that CloudWatch can compute percentiles, with the exact `Min`, `Max`, `Count` and `Sum`.
 */
export interface DistributionPart {
  readonly values: readonly number[];
  readonly counts: readonly number[];
  readonly min: number;
  readonly max: number;
  readonly count: number;
  readonly sum: number;
}

// Buckets grow by 10 % (as in AWS's own EMF library for Java): a bucket's representative value is
// within about 5 % of every value in it, which is what a percentile read from CloudWatch is off by.
const binWidth = Math.log1p(0.1);
// Valid metric values are within 2^±360: bucket indexes stay within ±2618.
const maxIndex = 2_700;
const initialBuckets = 32;

interface Bin {
  readonly value: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

function representative(index: number, min: number, max: number): number {
  const middle = Number(Math.exp((index + 0.5) * binWidth).toPrecision(6));
  return Math.min(max, Math.max(min, middle));
}

/**
 * Log-spaced buckets of positive values, each with its count, sum, min and max, in typed arrays
 * that grow when a value falls outside them (rarely: once a few buckets around the usual values
 * exist, adding costs a logarithm and four array writes, and allocates nothing).
 */
class LogBuckets {
  #offset = 0;
  #counts = new Float64Array(0);
  #sums = new Float64Array(0);
  #mins = new Float64Array(0);
  #maxs = new Float64Array(0);

  add(value: number): void {
    let index = Math.floor(Math.log(value) / binWidth);
    if (index > maxIndex) index = maxIndex;
    else if (index < -maxIndex) index = -maxIndex;
    let at = index - this.#offset;
    if (at < 0 || at >= this.#counts.length) {
      this.#grow(index);
      at = index - this.#offset;
    }
    const counts = this.#counts;
    if (counts[at] === 0) {
      this.#mins[at] = value;
      this.#maxs[at] = value;
    } else {
      if (value < this.#mins[at]!) this.#mins[at] = value;
      if (value > this.#maxs[at]!) this.#maxs[at] = value;
    }
    counts[at]! += 1;
    this.#sums[at]! += value;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sums.fill(0);
  }

  /** The non-empty buckets, smallest values first; `sign` -1 mirrors them (negative values). */
  bins(sign: 1 | -1): Bin[] {
    const bins: Bin[] = [];
    const counts = this.#counts;
    for (let at = 0; at < counts.length; at++) {
      const count = counts[at]!;
      if (count === 0) continue;
      const min = this.#mins[at]!;
      const max = this.#maxs[at]!;
      const value = representative(at + this.#offset, min, max);
      bins.push(
        sign === 1
          ? { value, count, sum: this.#sums[at]!, min, max }
          : { value: -value, count, sum: -this.#sums[at]!, min: -max, max: -min },
      );
    }
    return sign === 1 ? bins : bins.reverse();
  }

  #grow(index: number): void {
    const length = this.#counts.length;
    if (length === 0) {
      this.#offset = index - initialBuckets / 2;
      this.#counts = new Float64Array(initialBuckets);
      this.#sums = new Float64Array(initialBuckets);
      this.#mins = new Float64Array(initialBuckets);
      this.#maxs = new Float64Array(initialBuckets);
      return;
    }
    const low = Math.min(this.#offset, index);
    const high = Math.max(this.#offset + length - 1, index);
    const size = Math.max(length * 2, high - low + 1);
    const offset = index < this.#offset ? high - size + 1 : low;
    const shift = this.#offset - offset;
    const move = (old: Float64Array) => {
      const next = new Float64Array(size);
      next.set(old, shift);
      return next;
    };
    this.#counts = move(this.#counts);
    this.#sums = move(this.#sums);
    this.#mins = move(this.#mins);
    this.#maxs = move(this.#maxs);
    this.#offset = offset;
  }
}

/**
 * A distribution of values aggregated in process: exact count, sum, minimum and maximum, and
 * log-spaced buckets (10 % wide) for percentiles. Written to EMF as value/count datapoints of at
 * most 100 buckets each ({@link ValueHistogram.parts}).
 */
export class ValueHistogram {
  readonly #positive = new LogBuckets();
  #negative: LogBuckets | undefined;
  #zeros = 0;
  #count = 0;

  /** Values added since the last reset. */
  get count(): number {
    return this.#count;
  }

  /** Adds one value (a finite number). */
  add(value: number): void {
    this.#count++;
    if (value > 0) this.#positive.add(value);
    else if (value < 0) {
      this.#negative ??= new LogBuckets();
      this.#negative.add(-value);
    } else this.#zeros++;
  }

  /** Forgets every value, keeping the buckets' memory for the next interval. */
  reset(): void {
    this.#count = 0;
    this.#zeros = 0;
    this.#positive.reset();
    this.#negative?.reset();
  }

  /**
   * The distribution as datapoints of at most `maxBins` buckets each, smallest values first; one
   * datapoint unless the values spread over more buckets. Together they hold every value: their
   * counts add up to {@link ValueHistogram.count}, the first one's minimum is the smallest value and
   * the last one's maximum the largest.
   */
  parts(maxBins: number = emfLimits.maxValuesPerMetric): DistributionPart[] {
    if (this.#count === 0) return [];
    const bins = this.#negative?.bins(-1) ?? [];
    if (this.#zeros > 0) bins.push({ value: 0, count: this.#zeros, sum: 0, min: 0, max: 0 });
    for (const bin of this.#positive.bins(1)) bins.push(bin);
    const parts: DistributionPart[] = [];
    for (let start = 0; start < bins.length; start += maxBins) {
      const slice = bins.slice(start, start + maxBins);
      let count = 0;
      let sum = 0;
      for (const bin of slice) {
        count += bin.count;
        sum += bin.sum;
      }
      parts.push({
        values: slice.map((bin) => bin.value),
        counts: slice.map((bin) => bin.count),
        min: slice[0]!.min,
        // Bins are disjoint and in order: the last one holds the largest value.
        max: slice[slice.length - 1]!.max,
        count,
        sum,
      });
    }
    return parts;
  }
}
