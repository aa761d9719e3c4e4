import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import type { BootstrapOptions } from '../../../src/config/options.js';
import { ConfigurationError } from '../../../src/errors.js';

const cwd = new URL('../../fixtures/service-package', import.meta.url).pathname;

function load(options: BootstrapOptions = {}, env: Record<string, string | undefined> = {}) {
  return loadConfig({ env, ...options }, cwd).config;
}

function configError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('loadConfig: port', () => {
  it('defaults to 8080', () => {
    expect(load().port).toBe(8080);
  });

  it('reads PORT', () => {
    expect(load({}, { PORT: '3000' }).port).toBe(3000);
    expect(load({}, { PORT: ' 65535 ' }).port).toBe(65535);
  });

  it('prefers options.port over PORT, and accepts 0 for an ephemeral port', () => {
    expect(load({ port: 9000 }, { PORT: '3000' }).port).toBe(9000);
    expect(load({ port: 0 }, { PORT: '3000' }).port).toBe(0);
  });

  it('treats an empty PORT as unset', () => {
    expect(load({}, { PORT: '' }).port).toBe(8080);
  });

  it.each(['0', '65536', 'abc', '80.5', '-1', '8080x', '1e3'])(
    'rejects PORT=%j naming the field and value',
    (raw) => {
      const error = configError(() => load({}, { PORT: raw }));
      expect(error.field).toBe('PORT');
      expect(error.message).toContain(JSON.stringify(raw));
      expect(error.message).toContain('an integer from 1 to 65535');
      expect(error.code).toBe('ARK_CONFIG_INVALID');
    },
  );

  it.each([-1, 65536, 1.5, Number.NaN, '8080'])('rejects options.port = %j', (port) => {
    const error = configError(() => load({ port: port as number }));
    expect(error.field).toBe('port');
    expect(error.message).toContain('an integer from 0 to 65535');
  });
});

describe('loadConfig: service name', () => {
  it('prefers options.service, then SERVICE_NAME, then OTEL_SERVICE_NAME, then package.json', () => {
    const env = { SERVICE_NAME: 'from-env', OTEL_SERVICE_NAME: 'from-otel' };
    expect(load({ service: 'from-option' }, env).service).toBe('from-option');
    expect(load({}, env).service).toBe('from-env');
    expect(load({}, { OTEL_SERVICE_NAME: 'from-otel' }).service).toBe('from-otel');
    expect(load({}, {}).service).toBe('fixture-service');
  });

  it('takes service.name and service.version of OTEL_RESOURCE_ATTRIBUTES over package.json, under the variables', () => {
    const resource = { OTEL_RESOURCE_ATTRIBUTES: 'team=notes,service.name=billing,service.version=2.0.0' };
    expect(load({}, resource)).toMatchObject({ service: 'billing', version: '2.0.0' });
    expect(load({}, { ...resource, OTEL_SERVICE_NAME: 'from-otel' }).service).toBe('from-otel');
    expect(load({}, { ...resource, SERVICE_NAME: 'from-env', SERVICE_VERSION: '3' })).toMatchObject({
      service: 'from-env',
      version: '3',
    });
    expect(load({ service: 'from-option', version: '4' }, resource)).toMatchObject({
      service: 'from-option',
      version: '4',
    });
    expect(load({}, { OTEL_RESOURCE_ATTRIBUTES: 'service.name=%20' }).service).toBe('fixture-service');
  });

  it('falls back to "app" without a package.json', () => {
    expect(loadConfig({ env: {} }, '/nonexistent-dir').config.service).toBe('app');
  });

  it('rejects an empty or control-character name', () => {
    expect(configError(() => load({ service: '' })).field).toBe('service');
    expect(configError(() => load({}, { SERVICE_NAME: 'a\nb' })).field).toBe('SERVICE_NAME');
  });
});

describe('loadConfig: logging', () => {
  it('reads LOG_LEVEL case-insensitively and prefers the option', () => {
    expect(load({}, { LOG_LEVEL: 'DEBUG' }).logging.level).toBe('debug');
    expect(load({ logging: { level: 'warn' } }, { LOG_LEVEL: 'debug' }).logging.level).toBe('warn');
    expect(load().logging.level).toBe('info');
  });

  it('rejects an unknown level naming what is accepted', () => {
    const error = configError(() => load({}, { LOG_LEVEL: 'verbose' }));
    expect(error.field).toBe('LOG_LEVEL');
    expect(error.message).toContain('"verbose"');
    expect(error.message).toContain('"trace"');
    expect(configError(() => load({ logging: { level: 'loud' as 'info' } })).field).toBe('logging.level');
  });

  it('turns the request line off with requests: false, and rejects a non-boolean', () => {
    expect(load().logging.requests).toBe(true);
    expect(load({ logging: { requests: false } }).logging.requests).toBe(false);
    expect(configError(() => load({ logging: { requests: 'no' as unknown as boolean } })).field).toBe(
      'logging.requests',
    );
  });

  it('keeps log lines to 16,000 bytes by default, and takes a limit from 1,024 to 262,144', () => {
    expect(load().logging.maxLineBytes).toBe(16_000);
    expect(load({ logging: { maxLineBytes: 200_000 } }).logging.maxLineBytes).toBe(200_000);
    for (const bad of [1_000, 300_000, 16_000.5, '16000'])
      expect(configError(() => load({ logging: { maxLineBytes: bad as number } })).field).toBe(
        'logging.maxLineBytes',
      );
  });

  it("writes the message as msg by default, and takes 'message'", () => {
    expect(load().logging.messageKey).toBe('msg');
    expect(load({ logging: { messageKey: 'message' } }).logging.messageKey).toBe('message');
    for (const bad of ['Message', 'text', '', 1])
      expect(configError(() => load({ logging: { messageKey: bad as never } })).field).toBe(
        'logging.messageKey',
      );
  });

  it('takes debugRequests as the function given, and rejects anything else', () => {
    const pick = () => true;
    expect(load().logging.debugRequests).toBeUndefined();
    expect(load({ logging: { debugRequests: pick } }).logging.debugRequests).toBe(pick);
    expect(Object.isFrozen(pick)).toBe(false); // the app's function is not frozen with the config
    expect(configError(() => load({ logging: { debugRequests: true as never } })).field).toBe(
      'logging.debugRequests',
    );
  });

  it('rejects a destination without write()', () => {
    const bad = { logging: { destination: {} as never } };
    expect(configError(() => load(bad)).field).toBe('logging.destination');
  });
});

describe('loadConfig: server.tls', () => {
  const key =
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC\n-----END PRIVATE KEY-----\n';

  it('is plain HTTP by default, and keeps a copy of the options it is given', () => {
    expect(load().server.tls).toBeUndefined();
    const tls = { key, cert: 'cert' };
    const loaded = load({ server: { tls } }).server.tls;
    expect(loaded).toEqual(tls);
    expect(loaded).not.toBe(tls);
    expect(Object.isFrozen(tls)).toBe(false);
  });

  it.each([
    ['a string (a PEM key where an object belongs)', key],
    ['an object without a certificate', { ca: 'x' }],
    ['a key without a cert', { key }],
  ])('rejects %s without quoting a key', (_what, tls) => {
    const error = configError(() => load({ server: { tls: tls as never } }));
    expect(error.field).toBe('server.tls');
    expect(error.message).toContain('key and cert (or pfx, or SNICallback)');
    expect(error.message).not.toContain('MIIE');
  });
});

describe('loadConfig: shutdown', () => {
  it('has documented defaults', () => {
    expect(load().shutdown).toEqual({
      timeoutMs: 20_000,
      drainDelayMs: 0,
      idleGraceMs: 1_000,
      hookTimeoutMs: 5_000,
      signals: ['SIGTERM', 'SIGINT'],
      unhandledRejection: 'shutdown',
      handleProcessErrors: true,
    });
  });

  it.each([
    [{ timeoutMs: -1 }, 'shutdown.timeoutMs'],
    [{ timeoutMs: 0 }, 'shutdown.timeoutMs'],
    [{ timeoutMs: '5000' }, 'shutdown.timeoutMs'],
    [{ timeoutMs: 10.5 }, 'shutdown.timeoutMs'],
    [{ drainDelayMs: -5 }, 'shutdown.drainDelayMs'],
    [{ drainDelayMs: 'soon' }, 'shutdown.drainDelayMs'],
    [{ idleGraceMs: -1 }, 'shutdown.idleGraceMs'],
    [{ hookTimeoutMs: 0 }, 'shutdown.hookTimeoutMs'],
    [{ signals: 'SIGTERM' }, 'shutdown.signals'],
    [{ signals: ['SIGKILL'] }, 'shutdown.signals[0]'],
    [{ unhandledRejection: 'crash' }, 'shutdown.unhandledRejection'],
    [{ handleProcessErrors: 1 }, 'shutdown.handleProcessErrors'],
    [{ exit: 'process.exit' }, 'shutdown.exit'],
  ])('rejects %j as %s', (shutdown, field) => {
    const error = configError(() => load({ shutdown: shutdown as never }));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(/received .+; expected .+\./);
  });

  it('rejects a drain delay that does not fit in the timeout', () => {
    const error = configError(() => load({ shutdown: { timeoutMs: 1000, drainDelayMs: 1000 } }));
    expect(error.field).toBe('shutdown.drainDelayMs');
    expect(error.message).toContain('less than shutdown.timeoutMs (1000)');
  });

  it('rejects an idle grace that does not fit in the timeout, naming both', () => {
    const error = configError(() => load({ shutdown: { timeoutMs: 1000, idleGraceMs: 1000 } }));
    expect(error.code).toBe('ARK_CONFIG_INVALID');
    expect(error.field).toBe('shutdown.idleGraceMs');
    expect(error.message).toContain('received 1000');
    expect(error.message).toContain('less than shutdown.timeoutMs (1000)');
  });

  it('rejects an idle grace that does not fit in what the drain delay leaves of the timeout, naming all three', () => {
    const error = configError(() =>
      load({ shutdown: { timeoutMs: 5000, drainDelayMs: 4500, idleGraceMs: 500 } }),
    );
    expect(error.field).toBe('shutdown.idleGraceMs');
    expect(error.message).toContain('received 500');
    expect(error.message).toContain('(5000 - 4500 = 500)');
    expect(
      load({ shutdown: { timeoutMs: 5000, drainDelayMs: 4500, idleGraceMs: 499 } }).shutdown.idleGraceMs,
    ).toBe(499);
  });

  it('shortens the default idle grace to half of what the drain delay leaves of the timeout', () => {
    expect(load({ shutdown: { timeoutMs: 5000, drainDelayMs: 4500 } }).shutdown.idleGraceMs).toBe(250);
    expect(load({ shutdown: { timeoutMs: 1500 } }).shutdown.idleGraceMs).toBe(750);
    expect(load({ shutdown: { timeoutMs: 10_000, drainDelayMs: 5000 } }).shutdown.idleGraceMs).toBe(1000);
  });

  it('accepts an empty signal list, and exit: false', () => {
    const loaded = loadConfig({ env: {}, shutdown: { signals: [], exit: false } }, cwd);
    expect(loaded.config.shutdown.signals).toEqual([]);
    expect(loaded.exit).toBe(false);
  });
});

describe('loadConfig: server timeouts', () => {
  it('takes an option given as undefined as not given (the types say so for exactOptionalPropertyTypes)', () => {
    const unset = {
      service: undefined,
      version: undefined,
      host: undefined,
      port: undefined,
      logging: { level: undefined, requestIdHeader: undefined, maxLineBytes: undefined, buffer: undefined },
      health: { livenessPath: undefined, timeoutMs: undefined },
      shutdown: { timeoutMs: undefined, idleGraceMs: undefined, signals: undefined, exit: undefined },
      server: { keepAliveTimeoutMs: undefined, trustedProxies: undefined, tls: undefined },
      tracing: { mode: undefined },
      metrics: { namespace: undefined }, // a metrics object turns metrics on, whatever it holds
    } satisfies BootstrapOptions;
    const { config } = loadConfig({ env: {}, ...unset });
    expect(config).toEqual(loadConfig({ env: {}, metrics: {} }).config);
  });

  it('defaults above a load balancer idle timeout, and requests at 120 s', () => {
    expect(load().server).toEqual({
      keepAliveTimeoutMs: 65_000,
      headersTimeoutMs: 66_000,
      requestTimeoutMs: 120_000,
      trustedProxies: 1,
    });
  });

  it('keeps the headers timeout above a raised keep-alive timeout', () => {
    expect(load({ server: { keepAliveTimeoutMs: 90_000 } }).server.headersTimeoutMs).toBe(91_000);
  });

  it('rejects a headers timeout above the request timeout', () => {
    const error = configError(() => load({ server: { headersTimeoutMs: 10_000, requestTimeoutMs: 5_000 } }));
    expect(error.field).toBe('server.headersTimeoutMs');
  });

  it('rejects a negative timeout', () => {
    expect(configError(() => load({ server: { requestTimeoutMs: -1 } })).field).toBe(
      'server.requestTimeoutMs',
    );
  });
});

describe('loadConfig: unknown and malformed options', () => {
  it('rejects an unknown top-level option, listing the accepted ones', () => {
    const error = configError(() => load({ prot: 80 } as BootstrapOptions));
    expect(error.field).toBe('prot');
    expect(error.message).toContain('Unknown option prot');
    expect(error.message).toContain('port');
  });

  it('rejects an unknown nested option', () => {
    const error = configError(() => load({ shutdown: { timeout: 5 } } as never));
    expect(error.field).toBe('shutdown.timeout');
    expect(error.message).toContain('timeoutMs');
  });

  it('rejects a section that is not an object', () => {
    expect(configError(() => load({ logging: 'debug' } as never)).field).toBe('logging');
    expect(configError(() => load({ server: [] } as never)).field).toBe('server');
  });

  it('rejects a non-object env and a bad host', () => {
    expect(configError(() => loadConfig({ env: 'x' as never }, cwd)).field).toBe('env');
    expect(configError(() => load({ host: '' })).field).toBe('host');
  });
});

describe('loadConfig: the result', () => {
  it('is deeply frozen', () => {
    const config = load();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.shutdown)).toBe(true);
    expect(Object.isFrozen(config.shutdown.signals)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('reads process.env when no env is given', () => {
    const before = process.env.PORT;
    process.env.PORT = '4321';
    try {
      expect(loadConfig({}, cwd).config.port).toBe(4321);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });
});
