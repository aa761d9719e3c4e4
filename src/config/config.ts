import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { type LogLevel, logLevels, parseEnvironment } from './environment.js';
import type { BootstrapOptions } from './options.js';
import {
  deepFreeze,
  invalid,
  parseBoolean,
  parseDuration,
  parseEnum,
  parseInteger,
  parseName,
  parseSection,
} from './parse.js';

/** The validated, frozen configuration every part of the kit reads. */
export interface KitConfig {
  readonly port: number;
  readonly host: string | undefined;
  readonly service: string;
  readonly logging: { readonly level: LogLevel; readonly requests: boolean };
  readonly shutdown: {
    readonly timeoutMs: number;
    readonly drainDelayMs: number;
    readonly idleGraceMs: number;
    readonly hookTimeoutMs: number;
    readonly signals: readonly NodeJS.Signals[];
    readonly unhandledRejection: 'shutdown' | 'log';
    readonly handleProcessErrors: boolean;
  };
  readonly server: {
    readonly keepAliveTimeoutMs: number;
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
  };
}

/** What the config loader returns: the frozen config, and the live objects options carried. */
export interface LoadedConfig {
  readonly config: KitConfig;
  readonly destination: DestinationStream | undefined;
  readonly exit: ((code: number) => void) | false | undefined;
}

const optionKeys = ['app', 'port', 'host', 'service', 'logging', 'shutdown', 'server', 'env'] as const;
const signalNames = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Documented defaults, in one place. */
export const defaults = Object.freeze({
  port: 8080,
  logLevel: 'info' as LogLevel,
  service: 'app',
  shutdown: Object.freeze({
    timeoutMs: 20_000,
    drainDelayMs: 0,
    idleGraceMs: 1_000,
    hookTimeoutMs: 5_000,
    signals: Object.freeze(['SIGTERM', 'SIGINT'] as const),
    unhandledRejection: 'shutdown' as const,
  }),
  server: Object.freeze({ keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000, requestTimeoutMs: 120_000 }),
});

function packageName(cwd: string): string | undefined {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
    const name = (pkg as { name?: unknown }).name;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined; // no readable package.json: the documented fallback applies
  }
}

function optional<T>(value: unknown, parse: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

/**
 * Turns options and the environment into one validated, frozen config. Precedence: option >
 * environment variable > default.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) naming the field, the value and what is accepted.
 */
export function loadConfig(options: BootstrapOptions = {}, cwd = process.cwd()): LoadedConfig {
  const top = parseSection('options', options, optionKeys);
  const envOption = top.env;
  if (envOption !== undefined && (typeof envOption !== 'object' || envOption === null)) {
    invalid('env', envOption, 'an object of environment variables');
  }
  const env = parseEnvironment((envOption as Record<string, string | undefined> | undefined) ?? process.env);

  const logging = parseSection('logging', top.logging, ['level', 'requests', 'destination']);
  const shutdown = parseSection('shutdown', top.shutdown, [
    'timeoutMs',
    'drainDelayMs',
    'idleGraceMs',
    'hookTimeoutMs',
    'signals',
    'unhandledRejection',
    'handleProcessErrors',
    'exit',
  ]);
  const server = parseSection('server', top.server, [
    'keepAliveTimeoutMs',
    'headersTimeoutMs',
    'requestTimeoutMs',
  ]);

  const destination = logging.destination;
  if (destination !== undefined && typeof (destination as { write?: unknown }).write !== 'function') {
    invalid('logging.destination', destination, 'a stream with a write(line) method');
  }
  const exit = shutdown.exit;
  if (exit !== undefined && exit !== false && typeof exit !== 'function') {
    invalid('shutdown.exit', exit, 'a function taking the exit code, or false');
  }

  const signals = optional(shutdown.signals, (value) => {
    if (!Array.isArray(value)) invalid('shutdown.signals', value, `an array of ${signalNames.join(', ')}`);
    return value.map((s, i) => parseEnum(`shutdown.signals[${i}]`, s, signalNames));
  });

  const keepAliveTimeoutMs =
    optional(server.keepAliveTimeoutMs, (v) => parseDuration('server.keepAliveTimeoutMs', v)) ??
    defaults.server.keepAliveTimeoutMs;
  const headersTimeoutMs =
    optional(server.headersTimeoutMs, (v) => parseDuration('server.headersTimeoutMs', v)) ??
    Math.max(defaults.server.headersTimeoutMs, keepAliveTimeoutMs + 1_000);
  const requestTimeoutMs =
    optional(server.requestTimeoutMs, (v) => parseDuration('server.requestTimeoutMs', v)) ??
    defaults.server.requestTimeoutMs;
  if (requestTimeoutMs !== 0 && headersTimeoutMs > requestTimeoutMs) {
    invalid(
      'server.headersTimeoutMs',
      headersTimeoutMs,
      `at most server.requestTimeoutMs (${requestTimeoutMs}), as Node.js requires`,
    );
  }

  const config: KitConfig = {
    port: optional(top.port, (v) => parseInteger('port', v, 0, 65_535)) ?? env.PORT ?? defaults.port,
    host: optional(top.host, (v) => parseName('host', v, 255)),
    service:
      optional(top.service, (v) => parseName('service', v)) ??
      env.SERVICE_NAME ??
      env.OTEL_SERVICE_NAME ??
      packageName(cwd) ??
      defaults.service,
    logging: {
      level:
        optional(logging.level, (v) => parseEnum('logging.level', v, logLevels)) ??
        env.LOG_LEVEL ??
        defaults.logLevel,
      requests: optional(logging.requests, (v) => parseBoolean('logging.requests', v)) ?? true,
    },
    shutdown: {
      timeoutMs:
        optional(shutdown.timeoutMs, (v) => parseInteger('shutdown.timeoutMs', v, 1, 3_600_000)) ??
        defaults.shutdown.timeoutMs,
      drainDelayMs:
        optional(shutdown.drainDelayMs, (v) => parseDuration('shutdown.drainDelayMs', v)) ??
        defaults.shutdown.drainDelayMs,
      idleGraceMs:
        optional(shutdown.idleGraceMs, (v) => parseDuration('shutdown.idleGraceMs', v, 60_000)) ??
        defaults.shutdown.idleGraceMs,
      hookTimeoutMs:
        optional(shutdown.hookTimeoutMs, (v) => parseInteger('shutdown.hookTimeoutMs', v, 1, 3_600_000)) ??
        defaults.shutdown.hookTimeoutMs,
      signals: signals ?? defaults.shutdown.signals,
      unhandledRejection:
        optional(shutdown.unhandledRejection, (v) =>
          parseEnum('shutdown.unhandledRejection', v, ['shutdown', 'log'] as const),
        ) ?? defaults.shutdown.unhandledRejection,
      handleProcessErrors:
        optional(shutdown.handleProcessErrors, (v) => parseBoolean('shutdown.handleProcessErrors', v)) ??
        true,
    },
    server: { keepAliveTimeoutMs, headersTimeoutMs, requestTimeoutMs },
  };
  if (config.shutdown.drainDelayMs >= config.shutdown.timeoutMs) {
    invalid(
      'shutdown.drainDelayMs',
      config.shutdown.drainDelayMs,
      `less than shutdown.timeoutMs (${config.shutdown.timeoutMs}), which bounds the drain delay too`,
    );
  }
  return {
    config: deepFreeze(config),
    destination: destination as DestinationStream | undefined,
    exit: exit as LoadedConfig['exit'],
  };
}
