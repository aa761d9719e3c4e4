import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigurationError } from '../../../src/errors.js';

function tracing(options: Record<string, unknown> | undefined, env: Record<string, string> = {}) {
  return loadConfig({ env, ...(options === undefined ? {} : { tracing: options as never }) }).config.tracing;
}

function failure(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('AWS_XRAY_DAEMON_ADDRESS', () => {
  it.each([
    ['127.0.0.1:2000', { host: '127.0.0.1', port: 2000 }, { host: '127.0.0.1', port: 2000 }],
    [' xray-daemon:2000 ', { host: 'xray-daemon', port: 2000 }, { host: 'xray-daemon', port: 2000 }],
    [
      'udp:127.0.0.1:2000 tcp:127.0.0.1:2001',
      { host: '127.0.0.1', port: 2000 },
      { host: '127.0.0.1', port: 2001 },
    ],
    [
      'TCP:daemon.local:3000  UDP:10.0.0.5:2000',
      { host: '10.0.0.5', port: 2000 },
      { host: 'daemon.local', port: 3000 },
    ],
  ])('%j: UDP %j, TCP %j', (raw, udp, tcp) => {
    expect(tracing(undefined, { AWS_XRAY_DAEMON_ADDRESS: raw }).xrayDaemonAddress).toEqual({ udp, tcp });
  });

  it.each([
    'localhost',
    ':2000',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:port',
    'udp:127.0.0.1:2000',
    'udp:127.0.0.1:2000 udp:127.0.0.1:2001',
    'udp:127.0.0.1:2000 http:127.0.0.1:2001',
    'udp:a:1 tcp:b:2 udp:c:3',
    '[::1]:2000',
    'host name:2000',
  ])('refuses %j, naming the variable and the forms accepted', (raw) => {
    const error = failure(() => tracing(undefined, { AWS_XRAY_DAEMON_ADDRESS: raw }));
    expect(error.field).toBe('AWS_XRAY_DAEMON_ADDRESS');
    expect(error.message).toMatch(/host:port .*udp:host:port tcp:host:port/);
  });
});

describe('AWS_XRAY_DAEMON_ADDRESS where the X-Ray SDK does not trace', () => {
  it.each([
    ['tracing off', { mode: 'off' }, {}],
    ['OpenTelemetry', { mode: 'otel' }, {}],
    ['auto, an OTLP endpoint set', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }],
    ['auto, OTEL_SDK_DISABLED', undefined, { OTEL_SDK_DISABLED: 'true' }],
  ])('%s: a value the kit cannot read is left out, not refused', (_name, options, env) => {
    const config = tracing(options, { AWS_XRAY_DAEMON_ADDRESS: 'udp:[fd00::1]:2000', ...env });
    expect(config.xrayDaemonAddress).toBeUndefined();
    expect(config.xrayDaemonAddressIgnored).toBe('udp:[fd00::1]:2000');
  });

  it('a value it reads is kept', () => {
    const config = tracing({ mode: 'otel' }, { AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000' });
    expect(config.xrayDaemonAddress).toEqual({
      udp: { host: '127.0.0.1', port: 2000 },
      tcp: { host: '127.0.0.1', port: 2000 },
    });
    expect(config.xrayDaemonAddressIgnored).toBeUndefined();
  });

  it('in xray mode it is refused', () => {
    const error = failure(() => tracing({ mode: 'xray' }, { AWS_XRAY_DAEMON_ADDRESS: 'udp:[fd00::1]:2000' }));
    expect(error.field).toBe('AWS_XRAY_DAEMON_ADDRESS');
  });
});

describe('tracing.xray', () => {
  it('defaults to centralized sampling with the SDK’s local rules as fallback', () => {
    expect(tracing({ mode: 'xray' }).xray).toEqual({ sampling: 'centralized', samplingRules: undefined });
  });

  it('takes local rules, validated and frozen', () => {
    const rules = {
      version: 2,
      default: { fixed_target: 1, rate: 0.1 },
      rules: [
        {
          description: 'notes',
          host: '*',
          http_method: 'GET',
          url_path: '/notes/*',
          fixed_target: 5,
          rate: 0.5,
        },
      ],
    };
    const { xray } = tracing({ mode: 'xray', xray: { sampling: 'local', samplingRules: rules } });
    expect(xray).toEqual({ sampling: 'local', samplingRules: rules });
    expect(Object.isFrozen(xray.samplingRules?.rules?.[0])).toBe(true);
  });

  it.each([
    [{ sampling: 'remote' }, 'tracing.xray.sampling', /one of "centralized", "local"/],
    [{ rate: 1 }, 'tracing.xray.rate', /Accepted keys of tracing\.xray: sampling, samplingRules/],
    [{ samplingRules: { default: { fixed_target: 1, rate: 1 } } }, 'tracing.xray.samplingRules.version', /2/],
    [{ samplingRules: { version: 2 } }, 'tracing.xray.samplingRules.default', /fixed_target, rate/],
    [
      { samplingRules: { version: 2, default: { fixed_target: 1.5, rate: 1 } } },
      'tracing.xray.samplingRules.default.fixed_target',
      /an integer from 0/,
    ],
    [
      { samplingRules: { version: 2, default: { fixed_target: 1, rate: 2 } } },
      'tracing.xray.samplingRules.default.rate',
      /a number from 0 to 1/,
    ],
    [
      { samplingRules: { version: 2, default: { fixed_target: 1, rate: 1 }, rules: {} } },
      'tracing.xray.samplingRules.rules',
      /an array/,
    ],
    [
      {
        samplingRules: {
          version: 2,
          default: { fixed_target: 1, rate: 1 },
          rules: [{ host: '*', http_method: 'GET', fixed_target: 1, rate: 1 }],
        },
      },
      'tracing.xray.samplingRules.rules[0].url_path',
      /a non-empty pattern/,
    ],
    [
      {
        samplingRules: {
          version: 2,
          default: { fixed_target: 1, rate: 1 },
          rules: [
            { service_name: 'x', host: '*', http_method: 'GET', url_path: '/', fixed_target: 1, rate: 1 },
          ],
        },
      },
      'tracing.xray.samplingRules.rules[0].service_name',
      /Unknown option/,
    ],
  ])('refuses %j, naming %s', (xray, field, message) => {
    const error = failure(() => tracing({ mode: 'xray', xray }));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});
