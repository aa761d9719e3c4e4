import { type RuntimeMetricName, runtimeMetricNames } from './runtime-metrics.js';

/** Dimensions the kit's own metrics add to the default ones. */
const kitDimensionNames = ['Route', 'Method', 'HealthCheck'] as const;

/**
 * Names of the kit's own metrics: an app metric of one of these names would land in the same
 * CloudWatch series (same namespace and default dimensions) and mix with it.
 */
export const kitOwnMetricNames = Object.freeze([
  'Requests',
  'RequestLatency',
  '4xxStatusResponses',
  '5xxStatusResponses',
  'InFlightPeak',
  'ShedRequests',
  'SecretRefreshFailures',
  'HealthCheckRuns',
  'HealthCheckFailures',
  ...(Object.keys(runtimeMetricNames) as RuntimeMetricName[]),
] as const);

/**
 * Names the kit's own metrics use, as dimensions or metrics: a default dimension may not take them,
 * or a line would need one root member for two things.
 */
export const kitMetricNames = Object.freeze([...kitDimensionNames, ...kitOwnMetricNames] as const);
