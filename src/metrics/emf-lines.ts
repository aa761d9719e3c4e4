import { InvalidArgumentError } from '../errors.js';
import type { DistributionPart } from './histogram.js';
import { emfLimits } from './limits.js';
import type { MetricUnit } from './units.js';

/** One metric of an EMF line: a number, or one value/count datapoint of a distribution. */
export interface EmfMetric {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly value: number | DistributionPart;
  /** `1` for a high-resolution metric; absent, CloudWatch's standard 60 seconds. */
  readonly storageResolution?: 1 | 60;
}

/** Metrics that share their dimensions (names and values): one EMF line, or more when they do not fit. */
export interface EmfGroup {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly metrics: readonly EmfMetric[];
}

/** What every line of one flush shares. */
export interface EmfLineOptions {
  readonly namespace: string;
  /** `_aws.Timestamp`: milliseconds since the epoch. */
  readonly timestamp: number;
  /**
   * Bytes a line is kept to when its dimensions allow.
   * @default 16000 (see {@link emfLimits})
   */
  readonly budgetBytes?: number;
}

interface Line {
  readonly definitions: string[];
  readonly members: string[];
  readonly names: Set<string>;
  bytes: number;
}

function valueJson(value: number | DistributionPart): string {
  if (typeof value === 'number') return JSON.stringify(value);
  // The member order of AWS's own EMF library: Values, Counts, Max, Min, Count, Sum.
  return `{"Values":${JSON.stringify(value.values)},"Counts":${JSON.stringify(value.counts)},"Max":${JSON.stringify(value.max)},"Min":${JSON.stringify(value.min)},"Count":${value.count},"Sum":${JSON.stringify(value.sum)}}`;
}

/**
 * Renders a group of metrics as EMF JSON lines (without the newline): one `MetricDirective` with the
 * namespace, one `DimensionSet` of every dimension name, and the metric definitions; the dimension
 * values and metric values as root members. Metrics are packed into as few lines as fit at most 100
 * metric definitions each, never twice the same name on one line (the datapoints of one split
 * distribution go on separate lines), and at most `budgetBytes` unless one metric alone with its
 * dimensions is larger. Names and values must already be valid (see `validation.ts`); ASCII-only
 * names make a line's length its size in bytes.
 *
 * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) for more than 30 dimensions.
 *
 * @example
 * ```ts
 * emfLines(
 *   { dimensions: { Service: 'notes' }, metrics: [{ name: 'Requests', unit: 'Count', value: 3 }] },
 *   { namespace: 'AppRunnerKit', timestamp: Date.now() },
 * );
 * // ['{"_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":"AppRunnerKit","Dimensions":[["Service"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]},"Service":"notes","Requests":3}']
 * ```
 */
export function emfLines(group: EmfGroup, options: EmfLineOptions): string[] {
  const keys = Object.keys(group.dimensions);
  if (keys.length > emfLimits.maxDimensionsPerSet) {
    throw new InvalidArgumentError(
      `An EMF dimension set holds at most ${emfLimits.maxDimensionsPerSet} dimensions; received ${keys.length} (${keys.join(', ')}).`,
    );
  }
  const budget = options.budgetBytes ?? emfLimits.lineBudgetBytes;
  const head = `{"_aws":{"Timestamp":${Math.round(options.timestamp)},"CloudWatchMetrics":[{"Namespace":${JSON.stringify(options.namespace)},"Dimensions":[${JSON.stringify(keys)}],"Metrics":[`;
  let middle = ']}]}';
  for (const key of keys) middle += `,${JSON.stringify(key)}:${JSON.stringify(group.dimensions[key])}`;
  const fixed = head.length + middle.length + 1;

  const lines: Line[] = [];
  for (const metric of group.metrics) {
    const definition =
      metric.storageResolution === undefined
        ? `{"Name":${JSON.stringify(metric.name)},"Unit":"${metric.unit}"}`
        : `{"Name":${JSON.stringify(metric.name)},"Unit":"${metric.unit}","StorageResolution":${metric.storageResolution}}`;
    const member = `,${JSON.stringify(metric.name)}:${valueJson(metric.value)}`;
    let line = lines.find(
      (candidate) =>
        !candidate.names.has(metric.name) &&
        candidate.definitions.length < emfLimits.maxMetricsPerDirective &&
        candidate.bytes + 1 + definition.length + member.length <= budget,
    );
    if (line === undefined) {
      line = { definitions: [], members: [], names: new Set(), bytes: fixed - 1 };
      lines.push(line);
    }
    line.bytes += 1 + definition.length + member.length;
    line.definitions.push(definition);
    line.members.push(member);
    line.names.add(metric.name);
  }
  return lines.map((line) => `${head}${line.definitions.join(',')}${middle}${line.members.join('')}}`);
}
