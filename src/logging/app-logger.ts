import { type Logger, pino } from 'pino';
import type { KitConfig, LoadedConfig } from '../config/config.js';
import type { ParsedEnvironment } from '../config/environment.js';
import type { identityVariables } from '../config/identity.js';
import type { BootstrapOptions, LoggingOptions } from '../config/options.js';
import { type LogBufferSettings, resolveLogBuffer } from './held-lines.js';
import { type KitLoggerSettings, kitLoggerSettings } from './logger.js';

/** What `bootstrapAppRunner` was given, to compare with a logger the app built. */
export interface AskedLogging {
  /** The config, from the options and the environment. */
  readonly config: KitConfig;
  /** The `logging` options given in code: only these must agree with the logger. */
  readonly given: Readonly<LoggingOptions>;
  /** Whether `service` / `version` were given in code. */
  readonly serviceGiven: boolean;
  readonly versionGiven: boolean;
  /**
   * The variables of `options.env`, when given: those set count as given too (`createLogger` read
   * `process.env` instead).
   */
  readonly env: Pick<ParsedEnvironment, 'LOG_LEVEL' | (typeof identityVariables)[number]> | undefined;
}

/** What `bootstrapAppRunner(options)` asks of a logger, from its options and their config. */
export function askedLogging(options: BootstrapOptions, loaded: LoadedConfig): AskedLogging {
  return {
    config: loaded.config,
    given: options.logging ?? {},
    serviceGiven: options.service !== undefined,
    versionGiven: options.version !== undefined,
    // Parsed once by the config already.
    env: options.env === undefined ? undefined : loaded.parsedEnv,
  };
}

/** The outcome of {@link adoptAppLogger}. */
export type Adoption =
  | { readonly adopted: true; readonly logger: Logger; readonly config: KitConfig }
  | { readonly adopted: false; readonly differences: readonly string[] };

/**
 * Whether the kit can write its own lines through the app's logger (the one given to Fastify as
 * `loggerInstance`), when `createLogger` built it (else `undefined`): when each option given to
 * `bootstrapAppRunner` that shapes a logger (`service`, `version`, the region, `logging.level`,
 * `redact`, `debugSampleRate`, `debugRequests`, `maxLineBytes`, `pretty`, `messageKey`, `buffer`,
 * `destination`)
 * agrees with how the logger was built. Then the config takes the logger's settings for the rest
 * (its service names the spans, its `debugSampleRate` and `debugRequests` pick the requests); else
 * `differences` names each option that disagrees, with both values.
 */
export function adoptAppLogger(appLogger: unknown, asked: AskedLogging): Adoption | undefined {
  const settings = kitLoggerSettings(appLogger);
  if (settings === undefined) return undefined;
  const { config, given, env } = asked;
  const logging = config.logging;
  const differences: string[] = [];
  // Values as JSON: they come from code or the environment, and are short.
  const differ = (option: string, wanted: unknown, built: unknown) =>
    differences.push(`${option} ${JSON.stringify(wanted)} (the logger's: ${JSON.stringify(built)})`);
  if (appLogger !== settings.logger)
    differences.push(
      "loggerInstance is a child of createLogger's logger (give the framework that logger itself)",
    );
  const resource = env?.OTEL_RESOURCE_ATTRIBUTES?.attributes;
  const serviceGiven =
    asked.serviceGiven ||
    env?.SERVICE_NAME !== undefined ||
    env?.OTEL_SERVICE_NAME !== undefined ||
    resource?.['service.name'] !== undefined;
  if (serviceGiven && config.service !== settings.service)
    differ('service', config.service, settings.service);
  const versionGiven =
    asked.versionGiven || env?.SERVICE_VERSION !== undefined || resource?.['service.version'] !== undefined;
  if (versionGiven && config.version !== settings.version)
    differ('version', config.version, settings.version ?? null);
  if (
    (env?.AWS_REGION !== undefined || env?.AWS_DEFAULT_REGION !== undefined) &&
    config.region !== settings.region
  )
    differ('AWS_REGION', config.region, settings.region ?? null);
  if ((given.level !== undefined || env?.LOG_LEVEL !== undefined) && logging.level !== settings.level)
    differ('logging.level', logging.level, settings.level);
  if (given.redact !== undefined && !sameList(logging.redact, settings.redact))
    differ('logging.redact', logging.redact, settings.redact);
  if (given.debugSampleRate !== undefined && logging.debugSampleRate !== settings.debugSampleRate)
    differ('logging.debugSampleRate', logging.debugSampleRate, settings.debugSampleRate);
  if (given.debugRequests !== undefined && logging.debugRequests !== settings.debugRequests)
    differ(
      'logging.debugRequests',
      'a function',
      settings.debugRequests === undefined ? null : 'another function',
    );
  if (given.maxLineBytes !== undefined && logging.maxLineBytes !== settings.maxLineBytes)
    differ('logging.maxLineBytes', logging.maxLineBytes, settings.maxLineBytes);
  if (given.pretty !== undefined && logging.pretty !== settings.pretty)
    differ('logging.pretty', logging.pretty, settings.pretty);
  if (given.messageKey !== undefined && logging.messageKey !== settings.messageKey)
    differ('logging.messageKey', logging.messageKey, settings.messageKey);
  if (given.buffer !== undefined) {
    const wanted = bufferText(resolved(logging.buffer));
    const built = bufferText(resolved(settings.buffer));
    if (wanted !== built) differ('logging.buffer', wanted, built);
  }
  if (given.destination !== undefined && given.destination !== settings.destination)
    differ(
      'logging.destination',
      'a stream',
      settings.destination === undefined ? 'stdout' : 'another stream',
    );
  if (differences.length > 0) return { adopted: false, differences };
  return {
    adopted: true,
    logger: settings.logger,
    config: Object.freeze({
      ...withLoggerSettings(config, settings),
      service: settings.service,
      version: settings.version,
      region: settings.region,
    }),
  };
}

/**
 * `config` with the `logging` settings of a logger `createLogger` built, which the kit writes through
 * (adopted, or given as `logging.logger`): its `debugSampleRate` picks the requests, and
 * `runtime.config` says what applies.
 */
export function withLoggerSettings(config: KitConfig, settings: KitLoggerSettings): KitConfig {
  return Object.freeze({
    ...config,
    logging: Object.freeze({
      ...config.logging,
      level: settings.level,
      redact: settings.redact,
      debugSampleRate: settings.debugSampleRate,
      debugRequests: settings.debugRequests,
      maxLineBytes: settings.maxLineBytes,
      pretty: settings.pretty,
      messageKey: settings.messageKey,
      buffer: settings.buffer,
    }),
  });
}

/** Tells, once, why the kit did not adopt the app's logger: the options that differ, and the fix. */
export function warnDifferences(logger: Logger, framework: string, differences: readonly string[]): void {
  const name = `${framework.charAt(0).toUpperCase()}${framework.slice(1)}`;
  logger.warn(
    { differences },
    `${name}'s logger, built by createLogger, differs from the logging options given to bootstrapAppRunner (listed in differences): the kit writes its own lines through a logger of its own. To have one logger, give createLogger those options and leave them out of bootstrapAppRunner`,
  );
}

/** Log buffering's settings, both sides validated already (the config's, and createLogger's). */
function resolved(buffer: unknown): LogBufferSettings | undefined {
  return resolveLogBuffer(buffer, 'logging.buffer', (field) => {
    // An invariant, not a user's error: both values passed the same validation before.
    throw new Error(`${field} was validated already: it cannot be refused here`);
  });
}

/** Log buffering's settings, as the message shows them. */
function bufferText(buffer: LogBufferSettings | undefined): string {
  if (buffer === undefined) return 'off';
  return `level ${pino.levels.labels[buffer.threshold]}, maxBytes ${buffer.maxBytes}, flushOnError ${buffer.flushOnError}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
