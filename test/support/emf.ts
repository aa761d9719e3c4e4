/**
 * A validator of CloudWatch Embedded Metric Format lines, written from the specification (not from
 * the kit's code, so that it checks the kit rather than agreeing with it): structure, limits, units,
 * references and values. `emfProblems(line)` lists what is wrong; `parseEmf(line)` throws with that
 * list, else returns the document.
 */

/** The units of `MetricDatum` (CloudWatch API), which the EMF schema lists. */
const cloudWatchUnits = new Set([
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
]);

const maxEventBytes = 256 * 1024;
const maxDimensionsPerSet = 30;
const maxMetricsPerDirective = 100;
const maxValuesPerMetric = 100;
const day = 24 * 60 * 60 * 1000;

/** A value/count datapoint (AWS's EMF libraries' histogram form). */
export interface EmfDistribution {
  readonly Values: number[];
  readonly Counts: number[];
  readonly Max: number;
  readonly Min: number;
  readonly Count: number;
  readonly Sum: number;
}

/** A parsed EMF document. */
export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: {
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: {
        readonly Name: string;
        readonly Unit?: string;
        readonly StorageResolution?: number;
      }[];
    }[];
  };
  readonly [member: string]: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const printableAscii = /^[\x20-\x7E]+$/;

function extraMembers(
  where: string,
  value: Record<string, unknown>,
  allowed: string[],
  problems: string[],
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      problems.push(`${where} has a member the specification does not define: "${key}"`);
  }
}

function checkNumber(where: string, value: unknown, problems: string[]): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.push(`${where} is not a finite number: ${JSON.stringify(value)}`);
    return false;
  }
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude > 2 ** 360 || magnitude < 2 ** -360)) {
    problems.push(`${where} is outside CloudWatch's range (2^-360 to 2^360): ${value}`);
  }
  return true;
}

function checkDistribution(where: string, value: Record<string, unknown>, problems: string[]): void {
  extraMembers(where, value, ['Values', 'Counts', 'Max', 'Min', 'Count', 'Sum'], problems);
  const { Values: values, Counts: counts } = value;
  if (!Array.isArray(values) || !Array.isArray(counts)) {
    problems.push(`${where} needs Values and Counts arrays`);
    return;
  }
  if (values.length === 0 || values.length > maxValuesPerMetric) {
    problems.push(`${where}.Values has ${values.length} values; 1 to ${maxValuesPerMetric} are allowed`);
  }
  if (counts.length !== values.length) problems.push(`${where}: Counts and Values differ in length`);
  for (const key of ['Max', 'Min', 'Count', 'Sum']) {
    if (!(key in value)) problems.push(`${where} lacks ${key}`);
    else checkNumber(`${where}.${key}`, value[key], problems);
  }
  const min = value.Min as number;
  const max = value.Max as number;
  let total = 0;
  values.forEach((v, i) => {
    if (checkNumber(`${where}.Values[${i}]`, v, problems) && (v < min || v > max)) {
      problems.push(`${where}.Values[${i}] = ${v} is outside [Min, Max] = [${min}, ${max}]`);
    }
  });
  counts.forEach((c, i) => {
    if (typeof c !== 'number' || !(c > 0) || !Number.isFinite(c)) {
      problems.push(`${where}.Counts[${i}] is not a positive number: ${JSON.stringify(c)}`);
    } else {
      total += c;
    }
  });
  const count = value.Count as number;
  const sum = value.Sum as number;
  if (total !== count) problems.push(`${where}: Count ${count} differs from the sum of Counts ${total}`);
  if (!(min <= max)) problems.push(`${where}: Min ${min} is above Max ${max}`);
  const slack = 1e-9 * Math.max(1, Math.abs(sum));
  if (sum < min * count - slack || sum > max * count + slack) {
    problems.push(`${where}: Sum ${sum} is impossible for Count ${count} between Min ${min} and Max ${max}`);
  }
}

function checkMetricValue(where: string, value: unknown, problems: string[]): void {
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > maxValuesPerMetric) {
      problems.push(`${where} has ${value.length} values; 1 to ${maxValuesPerMetric} are allowed`);
    }
    value.forEach((v, i) => {
      checkNumber(`${where}[${i}]`, v, problems);
    });
  } else if (isObject(value)) {
    checkDistribution(where, value, problems);
  } else {
    checkNumber(where, value, problems);
  }
}

/** What is wrong with `line` as an EMF document; empty when it is valid. `now` bounds the timestamp. */
export function emfProblems(line: string, now = Date.now()): string[] {
  const problems: string[] = [];
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (text.includes('\n')) problems.push('the line holds a newline: it would be two log events');
  const bytes = Buffer.byteLength(text);
  if (bytes > maxEventBytes)
    problems.push(`the line is ${bytes} bytes; a log event holds at most ${maxEventBytes}`);
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    return [`not JSON: ${(error as Error).message}`];
  }
  if (!isObject(root)) return ['the root is not a JSON object'];
  const aws = root._aws;
  if (!isObject(aws)) return ['the root lacks the _aws metadata object'];
  extraMembers('_aws', aws, ['Timestamp', 'CloudWatchMetrics', 'LogGroupName', 'LogStreamName'], problems);
  const timestamp = aws.Timestamp;
  if (typeof timestamp !== 'number' || !Number.isInteger(timestamp)) {
    problems.push(`_aws.Timestamp is not an integer of milliseconds: ${JSON.stringify(timestamp)}`);
  } else if (timestamp < now - 14 * day || timestamp > now + 2 * 60 * 60 * 1000) {
    problems.push(`_aws.Timestamp ${timestamp} is not within the last 14 days and the next 2 hours`);
  }
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) {
    problems.push('_aws.CloudWatchMetrics is not a non-empty array of metric directives');
    return problems;
  }
  directives.forEach((directive: unknown, d) => {
    const where = `_aws.CloudWatchMetrics[${d}]`;
    if (!isObject(directive)) {
      problems.push(`${where} is not an object`);
      return;
    }
    extraMembers(where, directive, ['Namespace', 'Dimensions', 'Metrics'], problems);
    const namespace = directive.Namespace;
    if (
      typeof namespace !== 'string' ||
      namespace.length < 1 ||
      namespace.length > 255 ||
      !/^[A-Za-z0-9._#:/ -]+$/.test(namespace) ||
      namespace.trim() === '' ||
      namespace.startsWith('AWS/')
    ) {
      problems.push(`${where}.Namespace is not a valid CloudWatch namespace: ${JSON.stringify(namespace)}`);
    }
    const dimensionKeys = new Set<string>();
    const sets = directive.Dimensions;
    if (!Array.isArray(sets) || sets.length === 0) {
      problems.push(`${where}.Dimensions is not a non-empty array of dimension sets`);
    } else {
      sets.forEach((set: unknown, s) => {
        if (!Array.isArray(set)) {
          problems.push(`${where}.Dimensions[${s}] is not an array`);
          return;
        }
        if (set.length > maxDimensionsPerSet) {
          problems.push(`${where}.Dimensions[${s}] has ${set.length} keys; at most ${maxDimensionsPerSet}`);
        }
        if (new Set(set).size !== set.length) problems.push(`${where}.Dimensions[${s}] repeats a key`);
        for (const key of set) {
          if (
            typeof key !== 'string' ||
            key.length < 1 ||
            key.length > 255 ||
            !printableAscii.test(key) ||
            key.startsWith(':')
          ) {
            problems.push(
              `${where}.Dimensions[${s}] holds an invalid dimension name: ${JSON.stringify(key)}`,
            );
            continue;
          }
          dimensionKeys.add(key);
          const target = root[key];
          if (typeof target !== 'string') {
            problems.push(
              `dimension "${key}" has no string target member on the root node: ${JSON.stringify(target)}`,
            );
          } else if (
            target.length < 1 ||
            target.length > 1024 ||
            !printableAscii.test(target) ||
            target.trim() === ''
          ) {
            problems.push(`dimension "${key}" has an invalid value: ${JSON.stringify(target)}`);
          }
        }
      });
    }
    const metrics = directive.Metrics;
    if (!Array.isArray(metrics) || metrics.length === 0) {
      problems.push(`${where}.Metrics is not a non-empty array of metric definitions`);
      return;
    }
    if (metrics.length > maxMetricsPerDirective) {
      problems.push(`${where}.Metrics has ${metrics.length} definitions; at most ${maxMetricsPerDirective}`);
    }
    const names = new Set<string>();
    metrics.forEach((definition: unknown, m) => {
      const at = `${where}.Metrics[${m}]`;
      if (!isObject(definition)) {
        problems.push(`${at} is not an object`);
        return;
      }
      extraMembers(at, definition, ['Name', 'Unit', 'StorageResolution'], problems);
      const name = definition.Name;
      if (typeof name !== 'string' || name.length < 1 || name.length > 255 || name.trim() === '') {
        problems.push(`${at}.Name is not a metric name of 1 to 255 characters: ${JSON.stringify(name)}`);
        return;
      }
      if (names.has(name)) problems.push(`${at}: metric "${name}" is defined twice`);
      names.add(name);
      if (dimensionKeys.has(name)) problems.push(`${at}: "${name}" is both a dimension and a metric`);
      if (definition.Unit !== undefined && !cloudWatchUnits.has(definition.Unit as string)) {
        problems.push(`${at}.Unit is not a CloudWatch unit: ${JSON.stringify(definition.Unit)}`);
      }
      const resolution = definition.StorageResolution;
      if (resolution !== undefined && resolution !== 1 && resolution !== 60) {
        problems.push(`${at}.StorageResolution is neither 1 nor 60: ${JSON.stringify(resolution)}`);
      }
      if (!(name in root)) problems.push(`metric "${name}" has no target member on the root node`);
      else checkMetricValue(`"${name}"`, root[name], problems);
    });
  });
  return problems;
}

/** Parses `line` as an EMF document; throws listing every problem when it is not a valid one. */
export function parseEmf(line: string, now = Date.now()): EmfDocument {
  const problems = emfProblems(line, now);
  if (problems.length > 0) throw new Error(`invalid EMF line:\n- ${problems.join('\n- ')}\n${line}`);
  return JSON.parse(line) as EmfDocument;
}

/** A `metrics.destination` that keeps each line, as written (with its newline). */
export interface EmfCapture {
  readonly lines: string[];
  write(line: string): void;
  /** Every line, validated and parsed (throws on the first invalid one). */
  documents(): EmfDocument[];
}

export function captureEmf(): EmfCapture {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    documents() {
      return lines.map((line) => parseEmf(line));
    },
  };
}

/** The documents whose dimension values include every entry of `dimensions`. */
export function withDimensions(documents: EmfDocument[], dimensions: Record<string, string>): EmfDocument[] {
  return documents.filter((document) =>
    Object.entries(dimensions).every(([key, value]) => document[key] === value),
  );
}

/** Sum of a count metric over `documents` (those that hold it). */
export function sumOf(documents: EmfDocument[], name: string): number {
  let total = 0;
  for (const document of documents) {
    const value = document[name];
    if (typeof value === 'number') total += value;
  }
  return total;
}

/** A distribution metric over `documents`, merged: count, sum, min, max and every value/count pair. */
export function distributionOf(
  documents: EmfDocument[],
  name: string,
): { count: number; sum: number; min: number; max: number; datapoints: number } {
  const merged = {
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    datapoints: 0,
  };
  for (const document of documents) {
    const value = document[name] as EmfDistribution | undefined;
    if (value === undefined) continue;
    merged.count += value.Count;
    merged.sum += value.Sum;
    merged.min = Math.min(merged.min, value.Min);
    merged.max = Math.max(merged.max, value.Max);
    merged.datapoints++;
  }
  return merged;
}
