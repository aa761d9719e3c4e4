import { kitMetricNames } from '../metrics/kit-names.js';
import type { MetricsDestination } from '../metrics/publisher.js';
import {
  dimensionNameProblem,
  dimensionValueProblem,
  namespaceProblem,
  toDimensionValue,
} from '../metrics/validation.js';
import type { ParsedEnvironment } from './environment.js';
import { invalid, parseBoolean, parseInteger, parseSection } from './parse.js';

/** The validated `metrics` settings. */
export interface MetricsConfig {
  /** Metrics are aggregated and written. */
  readonly enabled: boolean;
  /** The CloudWatch namespace of every metric. */
  readonly namespace: string;
  /**
   * The dimensions of every metric, as given; `undefined` for the defaults: `Service` (the service
   * name) and `Environment` (when {@link MetricsConfig.environment} is known).
   */
  readonly dimensions: Readonly<Record<string, string>> | undefined;
  /** `DEPLOYMENT_ENVIRONMENT`, else `deployment.environment.name` in `OTEL_RESOURCE_ATTRIBUTES`. */
  readonly environment: string | undefined;
  /** Time between two flushes. */
  readonly flushIntervalMs: number;
  /** Route patterns with metrics of their own; the requests of later ones count under `other`. */
  readonly maxRoutes: number;
  /** Event-loop, memory and garbage-collection figures, one datapoint each per flush. */
  readonly runtime: boolean;
}

/** The documented defaults of the `metrics` option. */
export const metricsDefaults = Object.freeze({
  namespace: 'AppRunnerKit',
  flushIntervalMs: 60_000,
  maxRoutes: 20,
});

// Request metrics add Route and Method to the default dimensions, within EMF's 30 per set.
const maxDefaultDimensions = 28;

/** A dimension value from an environment variable: 1–255 printable ASCII characters. */
export function parseDimensionText(raw: string, name: string): string {
  const value = raw.trim();
  if (value.length > 255 || dimensionValueProblem(value) !== undefined) {
    invalid(name, raw, 'at most 255 printable ASCII characters, such as "prod"');
  }
  return value;
}

/**
 * Validates the `metrics` option section with the environment (`DEPLOYMENT_ENVIRONMENT`). Off unless
 * the section is given; `enabled` defaults to true once it is. Unknown keys and bad values throw the
 * configuration error naming the field.
 */
export function parseMetricsConfig(
  value: unknown,
  env: ParsedEnvironment,
): { readonly config: MetricsConfig; readonly destination: MetricsDestination | undefined } {
  const section = parseSection('metrics', value, [
    'enabled',
    'namespace',
    'dimensions',
    'flushIntervalMs',
    'maxRoutes',
    'runtime',
    'destination',
  ]);
  const namespace = section.namespace;
  if (namespace !== undefined) {
    const problem = namespaceProblem(namespace);
    if (problem !== undefined) invalid('metrics.namespace', namespace, problem);
  }
  let dimensions: Record<string, string> | undefined;
  if (section.dimensions !== undefined) {
    const given = section.dimensions;
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      invalid(
        'metrics.dimensions',
        given,
        'an object of dimension name → value strings, such as { Service: "notes" }',
      );
    }
    dimensions = {};
    const entries = Object.entries(given as Record<string, unknown>);
    if (entries.length > maxDefaultDimensions) {
      invalid(
        'metrics.dimensions',
        given,
        `at most ${maxDefaultDimensions} dimensions (EMF allows 30; the request metrics add Route and Method)`,
      );
    }
    for (const [key, text] of entries) {
      const nameProblem = dimensionNameProblem(key);
      if (nameProblem !== undefined) invalid('metrics.dimensions', key, nameProblem);
      if ((kitMetricNames as readonly string[]).includes(key)) {
        invalid(
          'metrics.dimensions',
          key,
          `a name other than those of the kit's own metrics and dimensions (${kitMetricNames.join(', ')})`,
        );
      }
      const valueProblem = dimensionValueProblem(text);
      if (valueProblem !== undefined) invalid(`metrics.dimensions.${key}`, text, valueProblem);
      dimensions[key] = text as string;
    }
  }
  const destination = section.destination;
  if (destination !== undefined && typeof (destination as { write?: unknown } | null)?.write !== 'function') {
    invalid('metrics.destination', destination, 'an object with a write(line) method');
  }
  const attributes = env.OTEL_RESOURCE_ATTRIBUTES?.attributes ?? {};
  const fromAttributes = attributes['deployment.environment.name'] ?? attributes['deployment.environment'];
  return {
    config: {
      enabled:
        value === undefined
          ? false
          : section.enabled === undefined
            ? true
            : parseBoolean('metrics.enabled', section.enabled),
      namespace: (namespace as string | undefined) ?? metricsDefaults.namespace,
      dimensions,
      environment:
        env.DEPLOYMENT_ENVIRONMENT ??
        (fromAttributes === undefined || fromAttributes.trim() === ''
          ? undefined
          : toDimensionValue(fromAttributes)),
      flushIntervalMs:
        section.flushIntervalMs === undefined
          ? metricsDefaults.flushIntervalMs
          : parseInteger('metrics.flushIntervalMs', section.flushIntervalMs, 100, 3_600_000),
      maxRoutes:
        section.maxRoutes === undefined
          ? metricsDefaults.maxRoutes
          : parseInteger('metrics.maxRoutes', section.maxRoutes, 1, 1_000),
      runtime: section.runtime === undefined ? true : parseBoolean('metrics.runtime', section.runtime),
    },
    destination: destination as MetricsDestination | undefined,
  };
}

/** The dimensions of every metric: the configured ones, else `Service` and `Environment` (when known). */
export function metricDimensions(config: MetricsConfig, service: string): Readonly<Record<string, string>> {
  if (config.dimensions !== undefined) return Object.freeze({ ...config.dimensions });
  const dimensions: Record<string, string> = { Service: toDimensionValue(service) };
  if (config.environment !== undefined) dimensions.Environment = config.environment;
  return Object.freeze(dimensions);
}
