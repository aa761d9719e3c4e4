import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { defaults } from '../config/config.js';
import {
  describeValue,
  invalid,
  optional,
  parseDuration,
  parseInteger,
  parseIntegerText,
} from '../config/parse.js';
import { ConfigurationError } from '../errors.js';

/**
 * Options of {@link runCluster}.
 *
 * @example
 * ```ts
 * runCluster({
 *   workers: 2, // else WEB_CONCURRENCY, else one per vCPU
 *   maxRestarts: 3, // exits 1 once workers exited more often within restartWindowMs
 *   restartWindowMs: 30_000,
 * });
 * ```
 */
export interface ClusterOptions {
  /**
   * How many workers to fork: an integer from 1 to 1024.
   * @default `WEB_CONCURRENCY` when set, else `os.availableParallelism()` (the vCPUs of the instance)
   */
  workers?: number | undefined;
  /**
   * How long the primary waits for the workers once it forwarded a signal, in milliseconds; those
   * still running then are killed (SIGKILL) and the primary exits 1. Keep it above the workers'
   * `shutdown.timeoutMs`, and below the platform's stop window (30 s on ECS and Kubernetes by default).
   * @default 2000 more than the longest `shutdown.timeoutMs` the workers run with (each worker of
   * `runCluster` tells the primary its own; 20 000 until one did): 22 000 with the kit's defaults
   */
  timeoutMs?: number | undefined;
  /**
   * Workers that may exit on their own (a crash, an exit of the app's) within `restartWindowMs` and be
   * forked again; one more, and the primary stops restarting, stops the others and exits 1, so that
   * the platform replaces the instance rather than run it short of workers, or in a crash loop. `0`
   * never restarts: the first exit stops the cluster.
   * @default 5
   */
  maxRestarts?: number | undefined;
  /**
   * The window of `maxRestarts`, in milliseconds: exits older than this are forgotten.
   * @default 60000
   */
  restartWindowMs?: number | undefined;
  /**
   * The logger of the primary's lines. One of `createLogger()` writes through the kit's stdout
   * writer, as the workers' lines the primary passes on do, so that no line lands inside another;
   * a logger writing to stdout its own way (`pino()`) may cut into a long relayed line.
   * @default `createLogger()`: the kit's JSON lines on stdout, with the workers' `service`, `version`
   * and `region` when they come from the environment
   */
  logger?: Logger | undefined;
  /**
   * Called with the exit code once every worker exited (0 when every one exited 0, else 1); `false`
   * leaves the primary running (for embedding and tests).
   * @default process.exit
   */
  exit?: ((code: number) => void) | false | undefined;
}

/** {@link ClusterOptions} once validated, the defaults applied. */
export interface ClusterSettings {
  readonly workers: number;
  /** `undefined` when not given: the primary then derives it from what its workers report. */
  readonly timeoutMs: number | undefined;
  readonly maxRestarts: number;
  readonly restartWindowMs: number;
}

/** The documented defaults of {@link ClusterOptions}. */
export const clusterDefaults = Object.freeze({
  /** Added to the workers' shutdown budget: a worker ends its drain, then flushes and exits. */
  timeoutMarginMs: 2_000,
  /** The workers' shutdown budget until one reports its own. */
  workerShutdownTimeoutMs: defaults.shutdown.timeoutMs,
  maxRestarts: 5,
  restartWindowMs: 60_000,
});

/** Most workers one primary forks: far above any instance's vCPUs, below a typo's thousands. */
const maxWorkers = 1_024;

const optionKeys: readonly string[] = [
  'workers',
  'timeoutMs',
  'maxRestarts',
  'restartWindowMs',
  'logger',
  'exit',
];

/**
 * Validates the options of {@link runCluster} (option > `WEB_CONCURRENCY` > the vCPUs) into frozen
 * settings.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) naming the option or variable, the value and the
 * fix.
 */
export function parseClusterOptions(
  options: ClusterOptions,
  env: Readonly<Record<string, string | undefined>>,
): ClusterSettings {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    invalid('runCluster options', options, 'an object');
  }
  for (const key of Object.keys(options)) {
    if (!optionKeys.includes(key)) {
      throw new ConfigurationError(
        key,
        `Unknown option ${key} of runCluster. Accepted options: ${optionKeys.join(', ')}.`,
      );
    }
  }
  const exit = options.exit;
  if (exit !== undefined && exit !== false && typeof exit !== 'function') {
    invalid('exit', exit, 'a function, or false');
  }
  const logger = options.logger;
  if (logger !== undefined && !isLogger(logger)) {
    invalid('logger', logger, 'a pino logger, such as one of createLogger()');
  }
  return Object.freeze({
    workers: optional(options.workers, (v) => parseInteger('workers', v, 1, maxWorkers)) ?? workersOf(env),
    timeoutMs: optional(options.timeoutMs, (v) => parseInteger('timeoutMs', v, 1, 3_600_000)),
    maxRestarts:
      optional(options.maxRestarts, (v) => parseInteger('maxRestarts', v, 0, 1_000)) ??
      clusterDefaults.maxRestarts,
    restartWindowMs:
      optional(options.restartWindowMs, (v) => parseDuration('restartWindowMs', v)) ??
      clusterDefaults.restartWindowMs,
  });
}

/** The methods of a pino logger the primary calls (`console` has no `flush`). */
function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const logger = value as Record<string, unknown>;
  return ['debug', 'info', 'warn', 'error', 'flush'].every((name) => typeof logger[name] === 'function');
}

/** `WEB_CONCURRENCY` (the variable Heroku and others set to a process count), else the vCPUs. */
function workersOf(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.WEB_CONCURRENCY;
  if (raw === undefined || raw.trim() === '') return availableParallelism();
  try {
    return parseIntegerText('WEB_CONCURRENCY', raw, 1, maxWorkers);
  } catch (error) {
    throw new ConfigurationError(
      'WEB_CONCURRENCY',
      `Invalid WEB_CONCURRENCY: received ${describeValue(raw)}; expected an integer from 1 to ${maxWorkers}, the number of workers runCluster forks. Set it to the instance's vCPUs, or unset it to fork one worker per vCPU (os.availableParallelism()).`,
      { cause: error },
    );
  }
}
