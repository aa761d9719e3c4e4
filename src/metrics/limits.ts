/**
 * The limits the kit's EMF lines respect, from the CloudWatch Embedded Metric Format specification
 * and the CloudWatch `PutMetricData` API it feeds (as of 2026), plus one of its own for ECS.
 *
 * - A `DimensionSet` holds at most 30 dimension keys (the specification said 9 until CloudWatch raised
 *   its per-metric dimension limit to 30).
 * - A `MetricDirective` holds at most 100 `MetricDefinition`s: more metrics go on more lines.
 * - An array or value/count metric value holds at most 100 values: a distribution with more distinct
 *   buckets is split over several lines, each a valid datapoint of the same metric.
 * - A log event is at most 256 KiB (CloudWatch Logs now takes 1 MiB events; the kit does not rely on it).
 * - `_aws.Timestamp` must lie within the last 14 days and the next 2 hours.
 * - Names: namespace 1–255 characters of `A–Z a–z 0–9 . - _ / # :` and space, not starting with `AWS/`;
 *   metric names 1–255 printable ASCII characters; dimension names 1–250 (the specification's schema),
 *   never starting with `:`; dimension values 1–1024 printable ASCII characters.
 * - Values: finite numbers, zero or of a magnitude from 2^-360 to 2^360 (CloudWatch rejects the rest).
 * - Our own: a line is kept to 16,000 bytes whenever its dimensions allow. Docker's log copier cuts
 *   stdout lines at 16 KiB and ECS's `awslogs` driver in `non-blocking` mode ships the pieces as
 *   separate events, which would break the JSON and lose the metrics.
 *
 * @example
 * ```ts
 * import { emfLimits } from 'apprunner-kit';
 * emfLimits.maxDimensionsPerSet; // 30
 * ```
 */
export const emfLimits = Object.freeze({
  maxDimensionsPerSet: 30,
  maxMetricsPerDirective: 100,
  maxValuesPerMetric: 100,
  maxEventBytes: 256 * 1024,
  lineBudgetBytes: 16_000,
  maxTimestampAgeMs: 14 * 24 * 60 * 60 * 1000,
  maxTimestampAheadMs: 2 * 60 * 60 * 1000,
  maxNamespaceLength: 255,
  maxNameLength: 255,
  maxDimensionNameLength: 250,
  maxDimensionValueLength: 1024,
  maxMagnitude: 2 ** 360,
  minMagnitude: 2 ** -360,
});
