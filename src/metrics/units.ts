/**
 * The units CloudWatch accepts for a metric (the `StandardUnit` values of `MetricDatum`, which the
 * Embedded Metric Format specification's schema lists for `MetricDefinition.Unit`).
 *
 * @example
 * ```ts
 * import { metricUnits } from 'apprunner-kit';
 * metricUnits.includes('Milliseconds'); // true
 * ```
 */
export const metricUnits = Object.freeze([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const);

/** A CloudWatch metric unit, as `runtime.metrics.record(name, value, unit)` takes it. */
export type MetricUnit = (typeof metricUnits)[number];

const unitSet: ReadonlySet<string> = new Set(metricUnits);

/**
 * True when `value` is one of {@link metricUnits}, spelt as CloudWatch spells it (case matters).
 *
 * @example
 * ```ts
 * isMetricUnit('Milliseconds'); // true
 * isMetricUnit('ms'); // false
 * ```
 */
export function isMetricUnit(value: unknown): value is MetricUnit {
  return typeof value === 'string' && unitSet.has(value);
}
