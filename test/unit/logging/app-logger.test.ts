import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import type { BootstrapOptions } from '../../../src/config/options.js';
import { adoptAppLogger, askedLogging, withLoggerSettings } from '../../../src/logging/app-logger.js';
import { createLogger, kitLoggerSettings } from '../../../src/logging/logger.js';
import { captureLogs } from '../../support/log-capture.js';
import { stubLoggerEnvironment as stubEnvironment } from '../../support/logger-environment.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the settings a kit logger keeps', () => {
  it('are read from the logger and from its children (Fastify makes fastify.log a child)', () => {
    stubEnvironment({});
    const logger = createLogger({ service: 'notes', level: 'debug', buffer: true });
    const settings = kitLoggerSettings(logger);
    expect(settings).toMatchObject({
      logger,
      service: 'notes',
      level: 'debug',
      debugSampleRate: 0,
      buffer: true,
    });
    const fastifyLog = logger.child({}, { serializers: { req: () => 'req' } });
    expect(kitLoggerSettings(fastifyLog)?.logger).toBe(logger);
    expect(kitLoggerSettings(fastifyLog.child({ reqId: 'req-1' }))?.logger).toBe(logger);
    expect(kitLoggerSettings(pino())).toBeUndefined();
    expect(kitLoggerSettings(undefined)).toBeUndefined();
  });
});

describe('adoptAppLogger', () => {
  /** What bootstrapAppRunner(options) hands adoptAppLogger. */
  const asked = (options: BootstrapOptions = {}) => {
    const withEnv = { env: {}, ...options };
    return askedLogging(options, loadConfig(withEnv));
  };

  it('leaves a logger createLogger did not build alone', () => {
    expect(adoptAppLogger(pino(), asked())).toBeUndefined();
    expect(adoptAppLogger(undefined, asked())).toBeUndefined();
  });

  it("adopts a logger when bootstrapAppRunner is given no logging options: the logger's settings apply", () => {
    stubEnvironment({});
    const logger = createLogger({
      service: 'notes',
      version: '7',
      level: 'debug',
      redact: ['user.password'],
      debugSampleRate: 0.25,
      messageKey: 'message',
      buffer: { maxBytes: 4_096 },
    });
    const adoption = adoptAppLogger(logger, asked());
    if (adoption?.adopted !== true) expect.unreachable('adopted');
    expect(adoption.logger).toBe(logger);
    expect(adoption.config).toMatchObject({
      service: 'notes',
      version: '7',
      logging: {
        level: 'debug',
        redact: ['user.password'],
        debugSampleRate: 0.25, // the requests the request scope picks
        maxLineBytes: 16_000,
        messageKey: 'message',
        buffer: { maxBytes: 4_096 },
        requests: true, // what does not shape a logger stays the config's
      },
    });
    expect(Object.isFrozen(adoption.config.logging)).toBe(true);
  });

  it('adopts it when the options given agree with it', () => {
    stubEnvironment({});
    const logging = {
      level: 'debug',
      redact: ['user.password'],
      debugSampleRate: 0.5,
      maxLineBytes: 8_192,
      pretty: false,
      messageKey: 'message',
      buffer: { level: 'trace', maxBytes: 4_096 },
    } as const;
    const logger = createLogger({ service: 'notes', version: '2', ...logging });
    const adoption = adoptAppLogger(logger, asked({ service: 'notes', version: '2', logging }));
    expect(adoption?.adopted).toBe(true);
  });

  it('names each option given that the logger was not built with, with both values', () => {
    stubEnvironment({});
    const destination = captureLogs();
    const logger = createLogger({ service: 'notes', buffer: true, destination });
    const adoption = adoptAppLogger(
      logger,
      asked({
        service: 'orders',
        version: '3',
        logging: {
          level: 'warn',
          redact: ['token'],
          debugSampleRate: 0.1,
          maxLineBytes: 4_096,
          pretty: true,
          messageKey: 'message',
          buffer: { maxBytes: 2_048 },
          destination: captureLogs(),
        },
      }),
    );
    expect(adoption).toEqual({
      adopted: false,
      differences: [
        'service "orders" (the logger\'s: "notes")',
        expect.stringMatching(/^version "3" \(the logger's: /),
        'logging.level "warn" (the logger\'s: "info")',
        'logging.redact ["token"] (the logger\'s: [])',
        "logging.debugSampleRate 0.1 (the logger's: 0)",
        "logging.maxLineBytes 4096 (the logger's: 16000)",
        'logging.pretty true (the logger\'s: "auto")',
        'logging.messageKey "message" (the logger\'s: "msg")',
        'logging.buffer "level debug, maxBytes 2048, flushOnError true" (the logger\'s: "level debug, maxBytes 20480, flushOnError true")',
        'logging.destination "a stream" (the logger\'s: "another stream")',
      ],
    });
    // The same destination, and buffering given as `true` or as its defaults, are no difference.
    const same = adoptAppLogger(
      logger,
      asked({ logging: { buffer: { level: 'debug', maxBytes: 20_480 }, destination } }),
    );
    expect(same?.adopted).toBe(true);
  });

  it('compares debugRequests by identity', () => {
    stubEnvironment({});
    const pick = () => true;
    const logger = createLogger({ service: 'notes', debugRequests: pick });
    expect(adoptAppLogger(logger, asked({ logging: { debugRequests: pick } }))?.adopted).toBe(true);
    expect(adoptAppLogger(logger, asked({ logging: { debugRequests: () => true } }))).toEqual({
      adopted: false,
      differences: ['logging.debugRequests "a function" (the logger\'s: "another function")'],
    });
    const adopted = adoptAppLogger(logger, asked());
    if (adopted?.adopted !== true) expect.unreachable('adopted');
    expect(adopted.config.logging.debugRequests).toBe(pick);
    // Given to bootstrapAppRunner alone: the logger (not gated for picks) is not the kit's.
    expect(
      adoptAppLogger(createLogger({ service: 'notes' }), asked({ logging: { debugRequests: pick } })),
    ).toEqual({
      adopted: false,
      differences: ['logging.debugRequests "a function" (the logger\'s: null)'],
    });
  });

  it('counts what options.env sets as given: createLogger read process.env instead', () => {
    stubEnvironment({});
    const logger = createLogger({ service: 'notes' });
    const adoption = adoptAppLogger(
      logger,
      asked({ env: { LOG_LEVEL: 'debug', SERVICE_NAME: 'from-env', AWS_REGION: 'eu-west-1' } }),
    );
    expect(adoption).toEqual({
      adopted: false,
      differences: [
        'service "from-env" (the logger\'s: "notes")',
        'AWS_REGION "eu-west-1" (the logger\'s: null)',
        'logging.level "debug" (the logger\'s: "info")',
      ],
    });
    // What options.env leaves unset is not given: the logger's values apply.
    expect(adoptAppLogger(logger, asked({ env: { PORT: '9000' } }))?.adopted).toBe(true);
  });

  it('takes the region of the logger with its service and version', () => {
    stubEnvironment({ AWS_REGION: 'ap-south-1' });
    const adoption = adoptAppLogger(createLogger({ service: 'notes' }), asked());
    if (adoption?.adopted !== true) expect.unreachable('adopted');
    expect(adoption.config.region).toBe('ap-south-1');
  });

  it("refuses a child of createLogger's logger: the kit's lines would lose its bindings and level", () => {
    stubEnvironment({});
    const child = createLogger({ service: 'notes' }).child({ component: 'api' });
    expect(adoptAppLogger(child, asked())).toEqual({
      adopted: false,
      differences: [
        "loggerInstance is a child of createLogger's logger (give the framework that logger itself)",
      ],
    });
  });
});

describe('withLoggerSettings', () => {
  it('gives the config the logging settings of a logger given as it is, and nothing else', () => {
    stubEnvironment({});
    const config = loadConfig({ env: {}, service: 'orders' }).config;
    const logger = createLogger({ service: 'notes', level: 'warn', debugSampleRate: 0.5 });
    const taken = withLoggerSettings(config, kitLoggerSettings(logger)!);
    expect(taken.logging).toMatchObject({ level: 'warn', debugSampleRate: 0.5, requests: true });
    expect(taken.service).toBe('orders');
    expect(Object.isFrozen(taken.logging)).toBe(true);
  });
});
