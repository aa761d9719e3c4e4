import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigurationError, InvalidArgumentError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logging/logger.js';
import { captureLogs } from '../../support/log-capture.js';
import { stubLoggerEnvironment as stubEnvironment } from '../../support/logger-environment.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

function firstLine(options: Parameters<typeof createLogger>[0], level: 'debug' | 'info' = 'info') {
  const logs = captureLogs();
  const logger = createLogger({ ...options, destination: logs });
  logger[level]('hello');
  return logs.lines[0];
}

describe('createLogger reads what options leave out as bootstrapAppRunner does', () => {
  it('takes level, service, version and region from the environment', () => {
    stubEnvironment({
      LOG_LEVEL: 'DEBUG',
      SERVICE_NAME: 'notes',
      SERVICE_VERSION: '1.2.3',
      AWS_REGION: 'eu-west-1',
    });
    expect(firstLine({}, 'debug')).toMatchObject({
      level: 'debug',
      service: 'notes',
      version: '1.2.3',
      region: 'eu-west-1',
      msg: 'hello',
    });
  });

  it('lets options win over the environment', () => {
    stubEnvironment({
      LOG_LEVEL: 'debug',
      SERVICE_NAME: 'notes',
      SERVICE_VERSION: '1.2.3',
      AWS_REGION: 'eu-west-1',
    });
    const line = firstLine({ service: 'orders', version: '9', region: 'us-east-2', level: 'info' });
    expect(line).toMatchObject({ service: 'orders', version: '9', region: 'us-east-2' });
    expect(firstLine({ level: 'info' }, 'debug')).toBeUndefined();
  });

  it('falls back to OTEL_SERVICE_NAME, AWS_DEFAULT_REGION, then package.json of the working directory', () => {
    stubEnvironment({ OTEL_SERVICE_NAME: 'otel-notes', AWS_DEFAULT_REGION: 'ap-south-1' });
    expect(firstLine({})).toMatchObject({ service: 'otel-notes', region: 'ap-south-1' });
    stubEnvironment({});
    const pkg = loadConfig({ env: {} }).config; // the same package.json (the working directory's)
    const line = firstLine({});
    expect(line).toMatchObject({ level: 'info', service: pkg.service });
    expect(line?.version).toBe(pkg.version);
    expect(line).not.toHaveProperty('region');
  });

  it('refuses a LOG_LEVEL it does not know, naming the variable', () => {
    stubEnvironment({ LOG_LEVEL: 'verbose' });
    expect(() => createLogger()).toThrow(ConfigurationError);
    expect(() => createLogger()).toThrow(/LOG_LEVEL/);
    expect(() => createLogger({ level: 'warn' })).toThrow(/LOG_LEVEL/); // read whatever the options say
  });
});

describe('createLogger refuses what the config refuses', () => {
  it('a debugSampleRate outside 0 to 1', () => {
    expect(() => createLogger({ service: 'notes', debugSampleRate: 5 })).toThrow(InvalidArgumentError);
    expect(() => createLogger({ service: 'notes', debugSampleRate: Number.NaN })).toThrow(
      /debugSampleRate NaN/,
    );
  });

  it('a debugRequests that is not a function', () => {
    expect(() => createLogger({ service: 'notes', debugRequests: 'x-debug' as never })).toThrow(
      /createLogger: debugRequests "x-debug"/,
    );
  });

  it('a service or version that is not a name, and trims one with spaces around it', () => {
    stubEnvironment({});
    expect(() => createLogger({ service: '' })).toThrow(InvalidArgumentError);
    expect(() => createLogger({ service: 'a\nb' })).toThrow(/createLogger: service/);
    expect(() => createLogger({ version: 'v'.repeat(129) })).toThrow(/createLogger: version/);
    expect(firstLine({ service: ' notes ', version: ' 1 ' })).toMatchObject({
      service: 'notes',
      version: '1',
    });
  });
});
