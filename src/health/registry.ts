import type { Logger } from 'pino';
import { describeValue } from '../config/parse.js';
import { InvalidArgumentError } from '../errors.js';
import { CheckLog } from './check-log.js';
import { CheckRunner } from './check-runner.js';
import type {
  HealthCheck,
  HealthCheckKind,
  HealthCheckOptions,
  HealthCheckReport,
  HealthStatus,
} from './types.js';

/** Registry-wide defaults, from the `health` options. */
export interface HealthRegistrySettings {
  readonly timeoutMs: number;
  readonly minIntervalMs: number;
  /** Bound on evaluating all the checks of one endpoint. */
  readonly budgetMs: number;
}

/** The outcome of evaluating the checks of one endpoint. */
export interface HealthEvaluation {
  readonly status: HealthStatus;
  readonly checks: Readonly<Record<string, HealthCheckReport>>;
}

const kinds: readonly HealthCheckKind[] = ['liveness', 'readiness', 'startup'];

/**
 * The registry of health checks behind `/healthz`, `/readyz` and `/startupz` (`runtime.health`).
 * Checks are bounded by their timeout, shared between concurrent requests, and run at most once per
 * minimum interval; a status change is logged once, and so is each new error of a failing check.
 *
 * @example
 * ```ts
 * runtime.health.register('postgres', () => pool.query('SELECT 1'), { componentType: 'datastore' });
 * runtime.health.register('cache', () => redis.ping(), { critical: false });
 * ```
 */
export class HealthRegistry {
  readonly #settings: HealthRegistrySettings;
  readonly #logger: Logger | undefined;
  readonly #runners = new Map<string, CheckRunner>();
  #reportListeners: readonly ((name: string, report: HealthCheckReport) => void)[] = [];

  constructor(settings: HealthRegistrySettings, logger?: Logger) {
    this.#settings = settings;
    this.#logger = logger;
  }

  /** Names of the registered checks. */
  get names(): string[] {
    return [...this.#runners.keys()];
  }

  /**
   * Registers a check. Returns the function that removes it.
   *
   * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) for an empty or duplicate name, a check that
   * is not a function, or an invalid option.
   */
  register(name: string, check: HealthCheck, options: HealthCheckOptions = {}): () => void {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 128) {
      throw new InvalidArgumentError(
        `health.register() needs a name of 1 to 128 characters; received ${describeValue(name)}.`,
      );
    }
    if (this.#runners.has(name)) {
      throw new InvalidArgumentError(
        `health.register(): a check named "${name}" is already registered. Use another name, or remove the first with the function register() returned.`,
      );
    }
    if (typeof check !== 'function') {
      throw new InvalidArgumentError(
        `health.register("${name}") needs a check function; received ${describeValue(check)}.`,
      );
    }
    const kind = options.kind ?? 'readiness';
    if (!kinds.includes(kind)) {
      throw new InvalidArgumentError(
        `health.register("${name}"): kind must be one of ${kinds.join(', ')}; received ${describeValue(kind)}.`,
      );
    }
    const duration = (field: 'timeoutMs' | 'minIntervalMs', fallback: number, min: number): number => {
      const value = options[field] ?? fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 600_000) {
        throw new InvalidArgumentError(
          `health.register("${name}"): ${field} must be an integer from ${min} to 600000 ms; received ${describeValue(value)}.`,
        );
      }
      return value;
    };
    const critical = options.critical ?? true;
    if (typeof critical !== 'boolean') {
      throw new InvalidArgumentError(
        `health.register("${name}"): critical must be true or false; received ${describeValue(critical)}.`,
      );
    }
    const log = this.#logger === undefined ? undefined : new CheckLog(name, kind, critical, this.#logger);
    const runner = new CheckRunner(
      name,
      check,
      {
        kind,
        timeoutMs: Math.min(duration('timeoutMs', this.#settings.timeoutMs, 1), this.#settings.budgetMs),
        minIntervalMs: duration('minIntervalMs', this.#settings.minIntervalMs, 0),
        critical,
        componentType: options.componentType,
      },
      (report, timedOut, passedBefore) => log?.record(report, timedOut, passedBefore),
    );
    this.#runners.set(name, runner);
    return () => {
      if (this.#runners.get(name) === runner) this.#runners.delete(name);
    };
  }

  /**
   * Calls `listener` with each check report an endpoint evaluation returns (a report is returned
   * again while a run is shared or within its minimum interval). For the kit's metrics; returns the
   * function that removes it. A listener must not throw.
   */
  onReport(listener: (name: string, report: HealthCheckReport) => void): () => void {
    this.#reportListeners = [...this.#reportListeners, listener];
    return () => {
      this.#reportListeners = this.#reportListeners.filter((l) => l !== listener);
    };
  }

  /** True when at least one check counts for `endpoint`. */
  has(endpoint: 'liveness' | 'readiness' | 'startup'): boolean {
    for (const runner of this.#runners.values()) if (this.#counts(runner, endpoint)) return true;
    return false;
  }

  /**
   * Evaluates the checks that count for `endpoint`, concurrently, within the budget. Startup checks
   * count for `startup` and `readiness` until they first pass.
   */
  async evaluate(endpoint: 'liveness' | 'readiness' | 'startup'): Promise<HealthEvaluation> {
    const runners = [...this.#runners.values()].filter((runner) => this.#counts(runner, endpoint));
    const reports = await Promise.all(
      // Each run is already bounded by its check's timeout, which register() caps at the budget: no
      // second timer here. A result that cannot be reported still becomes a failure.
      runners.map((runner) =>
        runner.result().catch(
          (): HealthCheckReport => ({
            status: 'fail',
            time: new Date().toISOString(),
            durationMs: this.#settings.budgetMs,
            output: `no result within the ${this.#settings.budgetMs} ms health budget`,
          }),
        ),
      ),
    );
    const checks: Record<string, HealthCheckReport> = {};
    let status: HealthStatus = 'pass';
    reports.forEach((report, i) => {
      const runner = runners[i]!;
      checks[runner.name] = report;
      for (const listener of this.#reportListeners) listener(runner.name, report);
      const effective = report.status === 'fail' && !runner.settings.critical ? 'warn' : report.status;
      if (effective === 'fail') status = 'fail';
      else if (effective === 'warn' && status === 'pass') status = 'warn';
    });
    return { status, checks };
  }

  #counts(runner: CheckRunner, endpoint: 'liveness' | 'readiness' | 'startup'): boolean {
    const { kind } = runner.settings;
    if (endpoint === 'liveness') return kind === 'liveness';
    if (endpoint === 'startup') return kind === 'startup' && !runner.passedOnce;
    return kind === 'readiness' || (kind === 'startup' && !runner.passedOnce);
  }
}
