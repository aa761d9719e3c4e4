import type { Logger } from 'pino';
import { describeValue } from '../config/parse.js';
import { InvalidArgumentError } from '../errors.js';
import type { EmfGroup, EmfMetric } from './emf-lines.js';
import { ValueHistogram } from './histogram.js';
import { kitOwnMetricNames } from './kit-names.js';
import { emfLimits } from './limits.js';
import type { MetricSource } from './source.js';
import { isMetricUnit, type MetricUnit, metricUnits } from './units.js';
import {
  dimensionNameProblem,
  dimensionValueProblem,
  metricNameProblem,
  metricValueProblem,
} from './validation.js';

/** Dimensions of one datapoint: name → value, each 1–255 / 1–1024 printable ASCII characters. */
export type MetricDimensions = Readonly<Record<string, string>>;

/** How one metric is stored. */
export interface MetricOptions {
  /**
   * Store it at 1-second resolution (`StorageResolution: 1`, billed as a high-resolution metric)
   * rather than CloudWatch's standard 60 seconds. Worth it only with a `metrics.flushIntervalMs`
   * of a few seconds. One name keeps one resolution.
   * @default false
   */
  readonly highResolution?: boolean;
}

/**
 * The app's own CloudWatch metrics (`runtime.metrics`), aggregated in process and written as EMF
 * lines with the kit's metrics at each flush: counts are summed, recorded values kept as a
 * distribution (value/count pairs, so CloudWatch computes percentiles, with exact count, sum,
 * minimum and maximum). Every datapoint carries the default dimensions (`Service`, `Environment`)
 * plus those given. Names, units, values and dimensions are checked on every call, even with
 * metrics off, so that a mistake shows in development.
 *
 * @example
 * ```ts
 * runtime.metrics.count('OrdersPlaced');
 * runtime.metrics.count('ItemsSold', order.items.length, { Plan: customer.plan });
 * runtime.metrics.record('PaymentLatency', elapsedMs, 'Milliseconds');
 * runtime.metrics.count('CheckoutErrors', 1, undefined, { highResolution: true });
 * ```
 */
export interface RuntimeMetrics {
  /** False when `metrics.enabled` is off: calls are checked, then dropped. */
  readonly enabled: boolean;
  /**
   * Adds `value` (default 1) to the count `name` (unit `Count`), summed until the next flush.
   *
   * A value below 0 or not finite, or a dimension value CloudWatch refuses (empty, not printable
   * ASCII, over 1,024 characters: data, not code), drops the datapoint, said once per metric and cause.
   *
   * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) for an invalid name or dimension name, a
   * value that is not a number, a dimension value that is not a string, or a name already used with
   * `record()`.
   */
  count(name: string, value?: number, dimensions?: MetricDimensions, options?: MetricOptions): void;
  /**
   * Records one value of `name` in `unit` (one of CloudWatch's units, such as `'Milliseconds'`),
   * kept as a distribution until the next flush: buckets 10 % wide for percentiles (at most 256 of
   * them per sign, 16 KB per series: values more than ten decades below the largest share the
   * lowest bucket), with exact count, sum, minimum and maximum.
   *
   * A value out of CloudWatch's range or not finite, or a dimension value it refuses, drops the
   * datapoint, said once per metric and cause.
   *
   * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) for an invalid name, unit or dimension
   * name, a value that is not a number, a dimension value that is not a string, or a name already
   * used with another unit or with `count()`.
   */
  record(
    name: string,
    value: number,
    unit: MetricUnit,
    dimensions?: MetricDimensions,
    options?: MetricOptions,
  ): void;
  /** Writes what was aggregated so far now (scripts, tests); never rejects. */
  flush(): Promise<void>;
}

interface Kind {
  readonly counted: boolean;
  readonly unit: MetricUnit;
  readonly highResolution: boolean;
}

interface Series {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly dimensions: MetricDimensions;
  readonly groupKey: string;
  readonly highResolution: boolean;
  total: number;
  readonly histogram: ValueHistogram | undefined;
}

/** Distinct name and dimension combinations aggregated in one interval; datapoints of more are dropped. */
export const maxAppSeries = 1_000;
// Names remembered with their kind and unit: past this, new names are checked but not remembered.
const maxKinds = 10_000;

/** {@link RuntimeMetrics} as the kit builds it: the app's metrics, a source of the flush. */
export class AppMetrics implements RuntimeMetrics, MetricSource {
  readonly enabled: boolean;
  readonly #defaults: MetricDimensions;
  readonly #defaultKey: string;
  readonly #logger: Logger | undefined;
  readonly #flush: () => Promise<void>;
  readonly #kinds = new Map<string, Kind>();
  readonly #dimensionNames = new Set<string>();
  #series = new Map<string, Series>();
  #dropped = 0;
  /** Metrics and causes whose refused datapoints were said. */
  readonly #refusalsSaid = new Set<string>();

  constructor(options: {
    readonly enabled: boolean;
    readonly dimensions: MetricDimensions;
    readonly logger?: Logger | undefined;
    readonly flush?: () => Promise<void>;
  }) {
    this.enabled = options.enabled;
    this.#defaults = options.dimensions;
    this.#defaultKey = JSON.stringify(options.dimensions);
    this.#logger = options.logger;
    this.#flush = options.flush ?? (() => Promise.resolve());
  }

  count(name: string, value = 1, dimensions?: MetricDimensions, options?: MetricOptions): void {
    const highResolution = this.#resolution('count', name, options);
    this.#kind('count', name, true, 'Count', highResolution);
    if (typeof value !== 'number' || !(value >= 0) || metricValueProblem(value) !== undefined) {
      this.#refuseValue('count', name, value, 'a finite number of at least 0', dimensions);
      return;
    }
    const series = this.#seriesFor('count', name, 'Count', dimensions, false, highResolution);
    if (series !== undefined) series.total += value;
  }

  record(
    name: string,
    value: number,
    unit: MetricUnit,
    dimensions?: MetricDimensions,
    options?: MetricOptions,
  ): void {
    if (!isMetricUnit(unit)) {
      const nameText = typeof name === 'string' ? name : String(name);
      throw new InvalidArgumentError(
        `metrics.record("${nameText}"): the unit must be one of CloudWatch's units (${metricUnits.join(', ')}); received ${describeValue(unit)}.`,
      );
    }
    const highResolution = this.#resolution('record', name, options);
    this.#kind('record', name, false, unit, highResolution);
    const problem = metricValueProblem(value);
    if (problem !== undefined) {
      this.#refuseValue('record', name, value, problem, dimensions);
      return;
    }
    this.#seriesFor('record', name, unit, dimensions, true, highResolution)?.histogram?.add(value);
  }

  flush(): Promise<void> {
    return this.#flush();
  }

  collect(groups: EmfGroup[]): void {
    const byDimensions = new Map<string, { dimensions: MetricDimensions; metrics: EmfMetric[] }>();
    for (const series of this.#series.values()) {
      let group = byDimensions.get(series.groupKey);
      if (group === undefined) {
        group = { dimensions: series.dimensions, metrics: [] };
        byDimensions.set(series.groupKey, group);
      }
      const resolution = series.highResolution ? ({ storageResolution: 1 } as const) : {};
      if (series.histogram === undefined) {
        group.metrics.push({ name: series.name, unit: series.unit, value: series.total, ...resolution });
      } else {
        for (const part of series.histogram.parts()) {
          group.metrics.push({ name: series.name, unit: series.unit, value: part, ...resolution });
        }
      }
    }
    for (const group of byDimensions.values()) groups.push(group);
    // Series are rebuilt each interval: a combination not seen again costs nothing, and the bound
    // on combinations applies per interval.
    this.#series = new Map();
    if (this.#dropped > 0) {
      this.#logger?.warn(
        { dropped: this.#dropped, maxSeries: maxAppSeries },
        `metrics: dropped ${this.#dropped} datapoint(s) of the app's metrics: more than ${maxAppSeries} distinct name and dimension combinations in one interval (a dimension with too many values, such as a user id?)`,
      );
      this.#dropped = 0;
    }
  }

  /** `options.highResolution`, checked. */
  #resolution(method: 'count' | 'record', name: unknown, options: MetricOptions | undefined): boolean {
    if (options === undefined) return false;
    const value = (options as { highResolution?: unknown } | null)?.highResolution;
    if (
      typeof options !== 'object' ||
      options === null ||
      (value !== undefined && typeof value !== 'boolean')
    ) {
      throw new InvalidArgumentError(
        `metrics.${method}("${String(name)}"): options must be { highResolution?: boolean }; received ${describeValue(options)}.`,
      );
    }
    return value === true;
  }

  #kind(
    method: 'count' | 'record',
    name: string,
    counted: boolean,
    unit: MetricUnit,
    highResolution: boolean,
  ): void {
    const known = this.#kinds.get(name);
    if (known !== undefined) {
      if (known.counted === counted && known.unit === unit && known.highResolution === highResolution) return;
      const used = known.counted ? 'with count()' : `with record() in ${known.unit}`;
      const resolution = known.highResolution ? ' at high resolution' : ' at standard resolution';
      throw new InvalidArgumentError(
        `metrics.${method}("${name}"): this metric is already used ${used}${resolution}; one name keeps one kind, unit and resolution. Use another name.`,
      );
    }
    const problem = metricNameProblem(name);
    if (problem !== undefined) {
      throw new InvalidArgumentError(
        `metrics.${method}(): the name must be ${problem}; received ${describeValue(name)}.`,
      );
    }
    if ((kitOwnMetricNames as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(
        `metrics.${method}("${name}"): "${name}" is one of the kit's own metrics, in the same namespace and dimensions: yours would mix with it in CloudWatch. Give it another name (such as "App${name}").`,
      );
    }
    if (Object.hasOwn(this.#defaults, name)) {
      throw new InvalidArgumentError(
        `metrics.${method}("${name}"): "${name}" is a default dimension of every metric (${Object.keys(this.#defaults).join(', ')}); give the metric another name.`,
      );
    }
    if (this.#kinds.size < maxKinds) this.#kinds.set(name, { counted, unit, highResolution });
  }

  #seriesFor(
    method: 'count' | 'record',
    name: string,
    unit: MetricUnit,
    dimensions: MetricDimensions | undefined,
    distribution: boolean,
    highResolution: boolean,
  ): Series | undefined {
    let key = name;
    let extra: string[] | undefined;
    if (dimensions !== undefined) {
      extra = this.#checkDimensions(method, name, dimensions);
      if (extra === undefined) return undefined;
      if (extra.length > 0) {
        extra.sort();
        for (const dimension of extra) key += `\u0000${dimension}\u0001${dimensions[dimension]}`;
      }
    }
    if (!this.enabled) return undefined;
    let series = this.#series.get(key);
    if (series === undefined) {
      if (this.#series.size >= maxAppSeries) {
        this.#dropped++;
        return undefined;
      }
      const merged =
        extra === undefined || extra.length === 0 ? this.#defaults : { ...this.#defaults, ...dimensions };
      series = {
        name,
        unit,
        dimensions: merged,
        groupKey: merged === this.#defaults ? this.#defaultKey : JSON.stringify(merged),
        highResolution,
        total: 0,
        histogram: distribution ? new ValueHistogram() : undefined,
      };
      this.#series.set(key, series);
    }
    return series;
  }

  /**
   * A value refused: one that is not a number is a mistake in the code, and throws; a number
   * CloudWatch refuses (NaN, out of range) comes from the data, and drops the datapoint. Mistakes in
   * the code among the dimensions still throw, whatever the value.
   */
  #refuseValue(
    method: 'count' | 'record',
    name: string,
    value: unknown,
    accepted: string,
    dimensions: MetricDimensions | undefined,
  ): void {
    const problem = `metrics.${method}("${name}"): the value must be ${accepted}; received ${describeValue(value)}`;
    if (typeof value !== 'number') throw new InvalidArgumentError(`${problem}.`);
    if (dimensions !== undefined) this.#checkDimensions(method, name, dimensions);
    this.#refused(name, 'value', problem);
  }

  /**
   * A datapoint dropped for a value of the data CloudWatch would refuse (a NaN, a tenant's name with
   * an accent): said once per metric and cause. Thrown, it would fail the request that measured it.
   */
  #refused(name: string, cause: string, problem: string): void {
    const key = `${name}\u0000${cause}`;
    if (this.#refusalsSaid.has(key) || this.#refusalsSaid.size >= maxKinds) return;
    this.#refusalsSaid.add(key);
    this.#logger?.warn(
      { metrics: { name } },
      `${problem}: the datapoint is dropped (said once per metric and cause)`,
    );
  }

  /** Checks `dimensions`; returns their names, or `undefined` when a value is one CloudWatch refuses. */
  #checkDimensions(
    method: 'count' | 'record',
    name: string,
    dimensions: MetricDimensions,
  ): string[] | undefined {
    const where = `metrics.${method}("${name}")`;
    if (typeof dimensions !== 'object' || dimensions === null || Array.isArray(dimensions)) {
      throw new InvalidArgumentError(
        `${where}: dimensions must be an object of name → value strings, such as { Plan: 'pro' }; received ${describeValue(dimensions)}.`,
      );
    }
    const names = Object.keys(dimensions);
    let total = names.length;
    let refused = false;
    for (const dimension of names) {
      if (!this.#dimensionNames.has(dimension)) {
        const problem = dimensionNameProblem(dimension);
        if (problem !== undefined) {
          throw new InvalidArgumentError(
            `${where}: each dimension name must be ${problem}; received ${describeValue(dimension)}.`,
          );
        }
        if (this.#dimensionNames.size < maxKinds) this.#dimensionNames.add(dimension);
      }
      if (dimension === name) {
        throw new InvalidArgumentError(
          `${where}: a dimension cannot have the metric's own name; rename one of them.`,
        );
      }
      const value = dimensions[dimension];
      const problem = dimensionValueProblem(value);
      if (problem !== undefined) {
        const text = `${where}: dimension "${dimension}" must be ${problem}; received ${describeValue(value)}`;
        if (typeof value !== 'string') throw new InvalidArgumentError(`${text}.`);
        if (!refused) this.#refused(name, `dimension ${dimension}`, text);
        refused = true;
      }
      if (Object.hasOwn(this.#defaults, dimension)) total--;
    }
    if (total + Object.keys(this.#defaults).length > emfLimits.maxDimensionsPerSet) {
      throw new InvalidArgumentError(
        `${where}: at most ${emfLimits.maxDimensionsPerSet} dimensions in all, the ${Object.keys(this.#defaults).length} default ones (${Object.keys(this.#defaults).join(', ')}) included; received ${names.length} more.`,
      );
    }
    return refused ? undefined : names;
  }
}
