import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { DestinationStream, Logger } from 'pino';
import type { ShedResponder } from '../http/load-shedder.js';
import type { MetricsDestination } from '../metrics/publisher.js';
import { type ParsedEnvironment, parseEnvironment } from './environment.js';
import { defaultServiceName, serviceIdentity } from './identity.js';
import { type LoggingConfig, loggingDefaults, parseLoggingConfig } from './logging.js';
import { type MetricsConfig, parseMetricsConfig } from './metrics.js';
import { type NodeOptionsGiven, nodeRejectionMode, readNodeOptions } from './node-flags.js';
import type { BootstrapOptions, ShutdownSignal } from './options.js';
import {
  deepFreeze,
  invalid,
  optional,
  parseBoolean,
  parseDuration,
  parseEnum,
  parseInteger,
  parseName,
  parseSection,
} from './parse.js';
import { parseRequestMatch, type QuietRequests, type RequestMatch } from './request-match.js';
import type { TestRunner, TestRunnerDefaults } from './test-runner.js';
import { parseTracingConfig, type TracingConfig } from './tracing.js';

/** The validated, frozen configuration every part of the kit reads. */
export interface KitConfig {
  readonly port: number;
  readonly host: string | undefined;
  readonly service: string;
  readonly version: string | undefined;
  readonly region: string | undefined;
  readonly logging: LoggingConfig;
  readonly health: {
    readonly livenessPath: string;
    readonly readinessPath: string;
    readonly startupPath: string;
    readonly timeoutMs: number;
    readonly minIntervalMs: number;
    readonly budgetMs: number;
    readonly exposeErrors: boolean;
    readonly eventLoopStallMs: number | undefined;
  };
  readonly loadShedding:
    | {
        readonly maxInFlight: number | undefined;
        readonly maxEventLoopDelayMs: number | undefined;
        readonly maxEventLoopUtilization: number | undefined;
        readonly maxHeapUsedBytes: number | undefined;
        readonly maxRssBytes: number | undefined;
        readonly intervalMs: number;
        readonly retryAfterSeconds: number;
        readonly readiness: 'off' | 'warn' | 'fail';
        readonly respond: ShedResponder | undefined;
        readonly exempt: RequestMatch | undefined;
        readonly cors: boolean;
      }
    | undefined;
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
    /** Proxies in front of the app that append to `X-Forwarded-For` (`server.trustedProxies`). */
    readonly trustedProxies: number;
    /** `https.ServerOptions` when the kit's own server speaks HTTPS (a copy of the option). */
    readonly tls: Readonly<HttpsServerOptions> | undefined;
  };
  /** Tracing: the mode asked for and the `OTEL_*` variables tracing reads. */
  readonly tracing: TracingConfig;
  /** CloudWatch metrics in the Embedded Metric Format (off unless `metrics` is given). */
  readonly metrics: MetricsConfig;
}

/** What the config loader returns: the frozen config, and the live objects options carried. */
export interface LoadedConfig {
  readonly config: KitConfig;
  readonly destination: DestinationStream | undefined;
  readonly logger: Logger | undefined;
  /** The environment the kit read (`options.env` or `process.env`), for `env:` secret references. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The variables of the schema, parsed from `env`. */
  readonly parsedEnv: ParsedEnvironment;
  readonly exit: ((code: number) => void) | false | undefined;
  /** `metrics.destination`: where EMF lines go instead of stdout (tests, embedding). */
  readonly metricsDestination: MetricsDestination | undefined;
  /** `quietRequests`, validated. */
  readonly quietRequests: QuietRequests | undefined;
  /** The test runner whose test process this is, and the shutdown options its defaults set. */
  readonly testRunner: TestRunnerDefaults | undefined;
  /** Node's options: its command line, `NODE_OPTIONS` (of `env`) and its config file's. */
  readonly node: NodeOptionsGiven;
}

const optionKeys = [
  'app',
  'adapter',
  'beforeListen',
  'quietRequests',
  'port',
  'host',
  'service',
  'version',
  'logging',
  'health',
  'secrets',
  'secretOptions',
  'loadShedding',
  'shutdown',
  'server',
  'tracing',
  'metrics',
  'env',
] as const;
const signalNames = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
] as const satisfies readonly ShutdownSignal[];

/** Documented defaults, in one place. */
export const defaults = Object.freeze({
  port: 8080,
  logLevel: loggingDefaults.level,
  requestLevels: loggingDefaults.requestLevels,
  service: defaultServiceName,
  health: Object.freeze({
    livenessPath: '/healthz',
    readinessPath: '/readyz',
    startupPath: '/startupz',
    timeoutMs: 1_000,
    minIntervalMs: 1_000,
    budgetMs: 1_500,
  }),
  shutdown: Object.freeze({
    timeoutMs: 20_000,
    drainDelayMs: 0,
    idleGraceMs: 1_000,
    hookTimeoutMs: 5_000,
    signals: Object.freeze(['SIGTERM', 'SIGINT'] as const),
    unhandledRejection: 'shutdown' as const,
  }),
  server: Object.freeze({
    keepAliveTimeoutMs: 65_000,
    headersTimeoutMs: 66_000,
    requestTimeoutMs: 120_000,
    trustedProxies: 1,
    tls: undefined,
  }),
});

/**
 * `server.tls`: a plain object of `https.ServerOptions` with a certificate (`key` and `cert`, `pfx`,
 * or an `SNICallback`), copied so that freezing the config leaves the caller's object alone.
 */
function parseTls(value: unknown): Readonly<HttpsServerOptions> | undefined {
  if (value === undefined) return undefined;
  const accepted = 'an object of https.ServerOptions with key and cert (or pfx, or SNICallback)';
  // A string here is likely a PEM key: the message must not quote it.
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid('server.tls', typeof value === 'string' ? 'a string' : value, accepted);
  const tls = value as HttpsServerOptions;
  const hasCertificate =
    (tls.key !== undefined && tls.cert !== undefined) ||
    tls.pfx !== undefined ||
    typeof tls.SNICallback === 'function';
  if (!hasCertificate) invalid('server.tls', value, accepted);
  return Object.freeze({ ...tls });
}

/**
 * Turns options and the environment into one validated, frozen config. Precedence: option >
 * environment variable > default. In a test runner's process (`testRunner`, which bootstrap
 * detects), `shutdown.exit`, `signals` and `idleGraceMs` default to `false`, `[]` and 0.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) naming the field, the value and what is accepted.
 */
export function loadConfig(
  options: BootstrapOptions = {},
  cwd = process.cwd(),
  testRunner?: TestRunner,
): LoadedConfig {
  const top = parseSection('options', options, optionKeys);
  const envOption = top.env;
  if (envOption !== undefined && (typeof envOption !== 'object' || envOption === null)) {
    invalid('env', envOption, 'an object of environment variables');
  }
  const rawEnv = (envOption as Record<string, string | undefined> | undefined) ?? process.env;
  const env = parseEnvironment(rawEnv);
  // The variable as set, an empty one too: Node then leaves its config file's nodeOptions out.
  const node = readNodeOptions(process.execArgv, rawEnv.NODE_OPTIONS);

  const logging = parseLoggingConfig(top.logging, env);
  const health = parseSection('health', top.health, [
    'livenessPath',
    'readinessPath',
    'startupPath',
    'timeoutMs',
    'minIntervalMs',
    'budgetMs',
    'exposeErrors',
    'eventLoopStallMs',
  ]);
  const path = (field: string) => (value: unknown) => {
    if (typeof value !== 'string' || !/^\/[\w\-./~]*$/.test(value) || value.length > 200) {
      invalid(field, value, 'a path starting with "/" without a query string, such as "/healthz"');
    }
    return value;
  };
  const healthPaths = {
    livenessPath: optional(health.livenessPath, path('health.livenessPath')) ?? defaults.health.livenessPath,
    readinessPath:
      optional(health.readinessPath, path('health.readinessPath')) ?? defaults.health.readinessPath,
    startupPath: optional(health.startupPath, path('health.startupPath')) ?? defaults.health.startupPath,
  };
  if (new Set(Object.values(healthPaths)).size !== 3) {
    invalid(
      'health.readinessPath',
      healthPaths.readinessPath,
      'a path different from the liveness and startup paths',
    );
  }
  const budgetMs =
    optional(health.budgetMs, (v) => parseInteger('health.budgetMs', v, 1, 60_000)) ??
    defaults.health.budgetMs;
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
    'trustedProxies',
    'tls',
  ]);

  const quietRequests = optional(top.quietRequests, (v) => parseRequestMatch('quietRequests', v));
  if (top.beforeListen !== undefined && typeof top.beforeListen !== 'function') {
    invalid('beforeListen', top.beforeListen, 'a function (runtime) => void | Promise<void>');
  }
  const exit = shutdown.exit;
  if (exit !== undefined && exit !== false && typeof exit !== 'function') {
    invalid('shutdown.exit', exit, 'a function taking the exit code, or false');
  }

  const signals = optional(shutdown.signals, (value) => {
    if (!Array.isArray(value)) invalid('shutdown.signals', value, `an array of ${signalNames.join(', ')}`);
    return value.map((s, i) => parseEnum(`shutdown.signals[${i}]`, s, signalNames));
  });

  const timeoutMs =
    optional(shutdown.timeoutMs, (v) => parseInteger('shutdown.timeoutMs', v, 1, 3_600_000)) ??
    defaults.shutdown.timeoutMs;
  const drainDelayMs =
    optional(shutdown.drainDelayMs, (v) => parseDuration('shutdown.drainDelayMs', v)) ??
    defaults.shutdown.drainDelayMs;
  // Given: it must fit in the timeout after the drain delay (checked below). Not given: 1 s, or half
  // of a shorter time left after the delay.
  const idleGraceMs = optional(shutdown.idleGraceMs, (v) => parseDuration('shutdown.idleGraceMs', v, 60_000));
  // The runner owns a test's process: the kit neither exits it (the runner would lose the results
  // still to come, and exit 0) nor takes its signals (Ctrl+C would end the runtime, not the run), and
  // an idle keep-alive socket (supertest's) does not hold each test's shutdown for a second.
  const inTest = testRunner !== undefined;
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

  const metrics = parseMetricsConfig(top.metrics, env);
  const shedding =
    top.loadShedding === undefined
      ? undefined
      : parseSection('loadShedding', top.loadShedding, [
          'maxInFlight',
          'maxEventLoopDelayMs',
          'maxEventLoopUtilization',
          'maxHeapUsedBytes',
          'maxRssBytes',
          'intervalMs',
          'retryAfterSeconds',
          'readiness',
          'respond',
          'exempt',
          'cors',
        ]);
  const loadShedding =
    shedding === undefined
      ? undefined
      : {
          maxInFlight: optional(shedding.maxInFlight, (v) =>
            parseInteger('loadShedding.maxInFlight', v, 1, 1_000_000),
          ),
          maxEventLoopDelayMs: optional(shedding.maxEventLoopDelayMs, (v) =>
            parseInteger('loadShedding.maxEventLoopDelayMs', v, 10, 60_000),
          ),
          maxEventLoopUtilization: optional(shedding.maxEventLoopUtilization, (v) => {
            if (typeof v !== 'number' || !(v > 0 && v <= 1)) {
              invalid('loadShedding.maxEventLoopUtilization', v, 'a number above 0, at most 1');
            }
            return v;
          }),
          intervalMs:
            optional(shedding.intervalMs, (v) => parseInteger('loadShedding.intervalMs', v, 50, 60_000)) ??
            500,
          retryAfterSeconds:
            optional(shedding.retryAfterSeconds, (v) =>
              parseInteger('loadShedding.retryAfterSeconds', v, 0, 3_600),
            ) ?? 1,
          maxHeapUsedBytes: optional(shedding.maxHeapUsedBytes, (v) =>
            parseInteger('loadShedding.maxHeapUsedBytes', v, 1024 * 1024, Number.MAX_SAFE_INTEGER),
          ),
          maxRssBytes: optional(shedding.maxRssBytes, (v) =>
            parseInteger('loadShedding.maxRssBytes', v, 1024 * 1024, Number.MAX_SAFE_INTEGER),
          ),
          readiness:
            optional(shedding.readiness, (v) =>
              parseEnum('loadShedding.readiness', v, ['off', 'warn', 'fail'] as const),
            ) ?? 'off',
          respond: optional(shedding.respond, (v) => {
            if (typeof v !== 'function')
              invalid(
                'loadShedding.respond',
                v,
                'a function (req, res) => void that writes the shed response',
              );
            return v as ShedResponder;
          }),
          exempt: optional(shedding.exempt, (v) => parseRequestMatch('loadShedding.exempt', v)),
          cors: optional(shedding.cors, (v) => parseBoolean('loadShedding.cors', v)) ?? true,
        };
  if (
    loadShedding !== undefined &&
    loadShedding.maxInFlight === undefined &&
    loadShedding.maxEventLoopDelayMs === undefined &&
    loadShedding.maxEventLoopUtilization === undefined &&
    loadShedding.maxHeapUsedBytes === undefined &&
    loadShedding.maxRssBytes === undefined
  ) {
    invalid(
      'loadShedding',
      top.loadShedding,
      'at least one of maxInFlight, maxEventLoopDelayMs, maxEventLoopUtilization, maxHeapUsedBytes, maxRssBytes',
    );
  }

  const config: KitConfig = {
    port: optional(top.port, (v) => parseInteger('port', v, 0, 65_535)) ?? env.PORT ?? defaults.port,
    host: optional(top.host, (v) => parseName('host', v, 255)),
    ...serviceIdentity(
      {
        service: optional(top.service, (v) => parseName('service', v)),
        version: optional(top.version, (v) => parseName('version', v, 128)),
      },
      env,
      cwd,
    ),
    logging: logging.config,
    health: {
      ...healthPaths,
      timeoutMs:
        optional(health.timeoutMs, (v) => parseInteger('health.timeoutMs', v, 1, 60_000)) ??
        defaults.health.timeoutMs,
      minIntervalMs:
        optional(health.minIntervalMs, (v) => parseDuration('health.minIntervalMs', v, 600_000)) ??
        defaults.health.minIntervalMs,
      budgetMs,
      exposeErrors: optional(health.exposeErrors, (v) => parseBoolean('health.exposeErrors', v)) ?? false,
      eventLoopStallMs: optional(health.eventLoopStallMs, (v) =>
        parseInteger('health.eventLoopStallMs', v, 100, 600_000),
      ),
    },
    loadShedding,
    shutdown: {
      timeoutMs,
      drainDelayMs,
      idleGraceMs:
        idleGraceMs ??
        (inTest ? 0 : undefined) ??
        Math.min(defaults.shutdown.idleGraceMs, Math.max(0, Math.floor((timeoutMs - drainDelayMs) / 2))),
      hookTimeoutMs:
        optional(shutdown.hookTimeoutMs, (v) => parseInteger('shutdown.hookTimeoutMs', v, 1, 3_600_000)) ??
        defaults.shutdown.hookTimeoutMs,
      signals: signals ?? (inTest ? [] : defaults.shutdown.signals),
      unhandledRejection:
        optional(shutdown.unhandledRejection, (v) =>
          parseEnum('shutdown.unhandledRejection', v, ['shutdown', 'log'] as const),
        ) ?? rejectionPolicyOfNode(node.flags),
      handleProcessErrors:
        optional(shutdown.handleProcessErrors, (v) => parseBoolean('shutdown.handleProcessErrors', v)) ??
        true,
    },
    server: {
      keepAliveTimeoutMs,
      headersTimeoutMs,
      requestTimeoutMs,
      trustedProxies:
        optional(server.trustedProxies, (v) => parseInteger('server.trustedProxies', v, 0, 16)) ??
        defaults.server.trustedProxies,
      tls: parseTls(server.tls),
    },
    tracing: parseTracingConfig(top.tracing, env),
    metrics: metrics.config,
  };
  if (config.shutdown.drainDelayMs >= config.shutdown.timeoutMs) {
    invalid(
      'shutdown.drainDelayMs',
      config.shutdown.drainDelayMs,
      `less than shutdown.timeoutMs (${config.shutdown.timeoutMs}), which bounds the drain delay too`,
    );
  }
  // The drain begins after the delay: an idle socket closes a grace later, which must be in time.
  if (idleGraceMs !== undefined && drainDelayMs + idleGraceMs >= timeoutMs) {
    invalid(
      'shutdown.idleGraceMs',
      idleGraceMs,
      drainDelayMs === 0
        ? `less than shutdown.timeoutMs (${timeoutMs}): a drain that waits out the idle grace would otherwise end as a timeout`
        : `less than shutdown.timeoutMs minus shutdown.drainDelayMs (${timeoutMs} - ${drainDelayMs} = ${timeoutMs - drainDelayMs}): the drain begins after the delay and closes an idle socket a grace later, so every shutdown with one would end as a timeout; shorten either, or lengthen the timeout`,
    );
  }

  return {
    config: deepFreeze(config),
    destination: logging.destination,
    metricsDestination: metrics.destination,
    quietRequests,
    logger: logging.logger,
    env: rawEnv,
    parsedEnv: env,
    node,
    exit: (exit ?? (inTest ? false : undefined)) as LoadedConfig['exit'],
    testRunner:
      testRunner === undefined
        ? undefined
        : {
            runner: testRunner,
            defaulted: (['exit', 'signals', 'idleGraceMs'] as const).filter(
              (name) => shutdown[name] === undefined,
            ),
          },
  };
}

/**
 * The default `shutdown.unhandledRejection`: `'log'` when Node was told to keep running on one
 * (`--unhandled-rejections=warn`, `none` or `warn-with-error-code`, or `unhandled-rejections` in its
 * config file), otherwise `'shutdown'`.
 */
function rejectionPolicyOfNode(flags: readonly string[]): 'shutdown' | 'log' {
  const mode = nodeRejectionMode(flags);
  return mode === 'warn' || mode === 'none' || mode === 'warn-with-error-code'
    ? 'log'
    : defaults.shutdown.unhandledRejection;
}
