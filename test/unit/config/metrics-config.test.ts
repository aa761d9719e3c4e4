import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { metricDimensions } from '../../../src/config/metrics.js';
import { ConfigurationError } from '../../../src/errors.js';

const load = (metrics: unknown, env: Record<string, string> = {}) =>
  loadConfig({ env, service: 'notes', metrics: metrics as never });

function configError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('metrics options', () => {
  it('are off unless given', () => {
    expect(loadConfig({ env: {} }).config.metrics).toMatchObject({ enabled: false });
  });

  it('turn on with the section and fill the documented defaults', () => {
    const { config } = load({});
    expect(config.metrics).toEqual({
      enabled: true,
      namespace: 'AppRunnerKit',
      dimensions: undefined,
      environment: undefined,
      flushIntervalMs: 60_000,
      maxRoutes: 20,
      runtime: true,
    });
    expect(metricDimensions(config.metrics, config.service)).toEqual({ Service: 'notes' });
    expect(Object.isFrozen(config.metrics)).toBe(true);
  });

  it('stay off with enabled: false', () => {
    expect(load({ enabled: false, namespace: 'Notes' }).config.metrics).toMatchObject({
      enabled: false,
      namespace: 'Notes',
    });
  });

  it('take the Environment dimension from DEPLOYMENT_ENVIRONMENT, else from OTEL_RESOURCE_ATTRIBUTES', () => {
    const fromVariable = load({}, { DEPLOYMENT_ENVIRONMENT: ' prod ' }).config;
    expect(metricDimensions(fromVariable.metrics, 'notes')).toEqual({
      Service: 'notes',
      Environment: 'prod',
    });
    const fromOtel = load(
      {},
      { OTEL_RESOURCE_ATTRIBUTES: 'team=a,deployment.environment.name=staging' },
    ).config;
    expect(fromOtel.metrics.environment).toBe('staging');
    const legacy = load({}, { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=dev' }).config;
    expect(legacy.metrics.environment).toBe('dev');
    const both = load(
      {},
      { DEPLOYMENT_ENVIRONMENT: 'prod', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging' },
    ).config;
    expect(both.metrics.environment).toBe('prod');
  });

  it('make a service name into a valid dimension value', () => {
    const { config } = loadConfig({ env: {}, service: 'nötes-api', metrics: {} });
    expect(metricDimensions(config.metrics, config.service)).toEqual({ Service: 'n?tes-api' });
  });

  it('replace the default dimensions with the given ones', () => {
    const { config } = load(
      { dimensions: { App: 'notes', Stage: 'beta' } },
      { DEPLOYMENT_ENVIRONMENT: 'prod' },
    );
    expect(metricDimensions(config.metrics, 'notes')).toEqual({ App: 'notes', Stage: 'beta' });
  });

  it('keep the destination out of the frozen config', () => {
    const destination = { lines: [] as string[], write: (line: string) => destination.lines.push(line) };
    const loaded = load({ destination });
    expect(loaded.metricsDestination).toBe(destination);
    expect(Object.isFrozen(destination.lines)).toBe(false);
  });

  it.each([
    [{ enabled: 'yes' }, 'metrics.enabled', 'true or false'],
    [{ namespace: '' }, 'metrics.namespace', 'a namespace of 1 to 255 characters'],
    [{ namespace: 'AWS/AppRunner' }, 'metrics.namespace', 'not starting with "AWS/"'],
    [{ namespace: 'notes@prod' }, 'metrics.namespace', 'A-Z a-z 0-9'],
    [{ namespace: 'x'.repeat(256) }, 'metrics.namespace', '1 to 255'],
    [{ dimensions: ['Service'] }, 'metrics.dimensions', 'an object of dimension name'],
    [{ dimensions: { ':x': 'a' } }, 'metrics.dimensions', 'not starting with ":"'],
    [{ dimensions: { Route: 'a' } }, 'metrics.dimensions', "the kit's own metrics and dimensions"],
    [{ dimensions: { Requests: 'a' } }, 'metrics.dimensions', "the kit's own metrics and dimensions"],
    [{ dimensions: { Team: '' } }, 'metrics.dimensions.Team', 'a dimension value of 1 to 1024'],
    [{ dimensions: { Team: 7 } }, 'metrics.dimensions.Team', 'a dimension value'],
    [
      { dimensions: Object.fromEntries(Array.from({ length: 29 }, (_, i) => [`D${i}`, 'x'])) },
      'metrics.dimensions',
      'at most 28 dimensions',
    ],
    [{ flushIntervalMs: 50 }, 'metrics.flushIntervalMs', 'an integer from 100 to 3600000'],
    [{ flushIntervalMs: '60000' }, 'metrics.flushIntervalMs', 'an integer'],
    [{ maxRoutes: 0 }, 'metrics.maxRoutes', 'an integer from 1 to 1000'],
    [{ maxRoutes: 2.5 }, 'metrics.maxRoutes', 'an integer from 1 to 1000'],
    [{ destination: {} }, 'metrics.destination', 'a write(line) method'],
    [{ destination: null }, 'metrics.destination', 'a write(line) method'],
    [{ flush: 1000 }, 'metrics.flush', 'Accepted keys of metrics: enabled, namespace'],
  ])('reject %j naming %s', (options, field, accepted) => {
    const error = configError(() => load(options));
    expect(error.field).toBe(field);
    expect(error.message).toContain(accepted);
    expect(error.code).toBe('ARK_CONFIG_INVALID');
  });

  it.each([true, 'on', ['x']])('reject metrics: %j (an object is expected)', (metrics) => {
    expect(configError(() => load(metrics)).field).toBe('metrics');
  });

  it.each(['prod\u0007', 'pr\u00f6d', 'x'.repeat(256)])('reject DEPLOYMENT_ENVIRONMENT=%j', (raw) => {
    const error = configError(() => load({}, { DEPLOYMENT_ENVIRONMENT: raw }));
    expect(error.field).toBe('DEPLOYMENT_ENVIRONMENT');
    expect(error.message).toContain('at most 255 printable ASCII characters');
  });
});
