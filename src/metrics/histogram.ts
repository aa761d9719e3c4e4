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
/**
 * Buckets kept per sign: 1.1^256 ≈ 4·10^10, ten decades below the largest value (1 µs to 11 hours in
 * milliseconds). Smaller values share the lowest bucket, as in DDSketch's collapsing store: a
 * client-supplied 1e-100 next to 1e100 would otherwise keep 4,800 buckets, some 300 KB outside the
 * JS heap per distribution, 1,000 of them per interval. At most 8 KB per sign, 16 KB per distribution.
 */
export const maxBucketsPerSign = 256;

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
 * exist, adding costs a logarithm and four array writes, and allocates nothing). At most
 * {@link maxBucketsPerSign} of them: past that span the window keeps the largest values and the
 * smaller ones share its lowest bucket, with their exact count, sum, minimum and maximum.
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
      this.#makeRoom(index);
      at = index - this.#offset;
      if (at < 0) at = 0; // ten decades below the largest value: into the lowest bucket
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

  /**
   * Moves or widens the window so that it holds bucket `index`, or, when that would span more than
   * {@link maxBucketsPerSign}, ends at the largest value: the buckets below it are merged into its
   * lowest. Whatever the order of the values, a window that had to give up ends at the largest value
   * seen (so the distribution does not depend on the order the values came in).
   */
  #makeRoom(index: number): void {
    let length = this.#counts.length;
    if (length === 0) {
      this.#resize(initialBuckets, index - initialBuckets / 2);
      return;
    }
    const highest = this.#highestOccupied();
    if (highest === undefined) {
      // Empty (after a reset): the window goes where the values are now, in the memory it has.
      this.#offset = index - (length >> 1);
      return;
    }
    if (length < maxBucketsPerSign) {
      const low = Math.min(this.#offset, index);
      const high = Math.max(this.#offset + length - 1, index);
      const size = Math.min(maxBucketsPerSign, Math.max(length * 2, high - low + 1));
      this.#resize(size, index < this.#offset ? high - size + 1 : low);
      length = size;
    }
    const at = index - this.#offset;
    if (at >= length) this.#slideUp(at - length + 1);
    else if (at < 0) {
      const free = this.#offset + length - 1 - highest;
      if (free > 0) this.#slideDown(Math.min(-at, free));
    }
  }

  /** The index of the highest non-empty bucket; `undefined` when all are empty. */
  #highestOccupied(): number | undefined {
    const counts = this.#counts;
    for (let at = counts.length - 1; at >= 0; at--) if (counts[at] !== 0) return at + this.#offset;
    return undefined;
  }

  /** New arrays of `size` buckets from `offset`, which the current ones fit in. */
  #resize(size: number, offset: number): void {
    const shift = this.#offset - offset;
    const move = (old: Float64Array) => {
      const next = new Float64Array(size);
      if (old.length > 0) next.set(old, shift);
      return next;
    };
    this.#counts = move(this.#counts);
    this.#sums = move(this.#sums);
    this.#mins = move(this.#mins);
    this.#maxs = move(this.#maxs);
    this.#offset = offset;
  }

  /** The window `by` buckets higher, in place: the lowest `by + 1` buckets merge into the new lowest. */
  #slideUp(by: number): void {
    const counts = this.#counts;
    const length = counts.length;
    const merged = Math.min(by + 1, length);
    let count = 0;
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let at = 0; at < merged; at++) {
      if (counts[at] === 0) continue;
      count += counts[at]!;
      sum += this.#sums[at]!;
      min = Math.min(min, this.#mins[at]!);
      max = Math.max(max, this.#maxs[at]!);
    }
    for (const array of [counts, this.#sums, this.#mins, this.#maxs]) array.copyWithin(0, by);
    counts.fill(0, Math.max(0, length - by));
    this.#sums.fill(0, Math.max(0, length - by));
    counts[0] = count;
    this.#sums[0] = sum;
    this.#mins[0] = min;
    this.#maxs[0] = max;
    this.#offset += by;
  }

  /** The window `by` buckets lower, in place; its highest `by` buckets are empty. */
  #slideDown(by: number): void {
    const length = this.#counts.length;
    for (const array of [this.#counts, this.#sums, this.#mins, this.#maxs])
      array.copyWithin(by, 0, length - by);
    this.#counts.fill(0, 0, by);
    this.#sums.fill(0, 0, by);
    this.#offset -= by;
  }
}

/**
 * A distribution of values aggregated in process: exact count, sum, minimum and maximum, and
 * log-spaced buckets (10 % wide) for percentiles. Written to EMF as value/count datapoints of at
 * most 100 buckets each ({@link ValueHistogram.parts}).
 *
 * Bounded: at most {@link maxBucketsPerSign} buckets for the positive values and as many for the
 * negative ones (16 KB in all). Values more than ten decades (1.1^256 ≈ 4·10^10) closer to zero
 * than the largest of their sign share the lowest bucket: still counted and summed, the minimum
 * still exact, but percentiles among them read that bucket's value.
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
