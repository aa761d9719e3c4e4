/** Status of a check or of a whole report, after the IETF draft "Health Check Response Format". */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/**
 * Which endpoint a check counts for: `liveness` (`/healthz`: restart me when failing — keep these
 * few and local), `readiness` (`/readyz`: send me no traffic while failing), `startup` (counts on
 * `/readyz` and `/startupz` until it first passes, then never again).
 */
export type HealthCheckKind = 'liveness' | 'readiness' | 'startup';

/** What a check may return to say more than pass or fail. */
export interface HealthCheckResult {
  readonly status: HealthStatus;
  /** A measured value: a latency, a count, a size (a BigInt is reported as a number when exact). */
  readonly observedValue?: number | string | boolean | bigint;
  /** The unit of `observedValue` (`ms`, `bytes`, `percent`). */
  readonly observedUnit?: string;
  /** Why the check warns or fails; shown only with `health.exposeErrors`. */
  readonly output?: string;
}

/**
 * What a check returns: `false` fails; a {@link HealthCheckResult} says its status, and more; anything
 * else passes — nothing, `true`, or whatever the work checked resolves with (a query's rows, `'PONG'`).
 * An object with another `status` (`'DOWN'`, an HTTP response's `503`) is refused by the type; at run
 * time, it fails, saying so.
 */
export type HealthCheckOutcome =
  // biome-ignore lint/suspicious/noConfusingVoidType: `void` lets `async () => { await pool.query('SELECT 1'); }` be a check.
  | void
  | null
  | boolean
  | string
  | number
  | bigint
  | readonly unknown[]
  | HealthCheckResult
  | (object & { readonly status?: undefined; readonly then?: undefined });

/**
 * A health check. It may be sync or async; it fails by throwing, rejecting or returning `false`. Its
 * `signal` aborts when its timeout passes, so a check that can stop its work (a query, a request)
 * should pass it on.
 */
export type HealthCheck = (signal: AbortSignal) => HealthCheckOutcome | PromiseLike<HealthCheckOutcome>;

/** Options of `runtime.health.register()`. */
export interface HealthCheckOptions {
  /**
   * The endpoint the check counts for.
   * @default 'readiness'
   */
  kind?: HealthCheckKind;
  /**
   * How long one run may take before it is cut and reported failing ("timed out after N ms"). Keep it
   * well under App Runner's 2 s health-check timeout. For a startup check it bounds each run, not the
   * startup: a run still pending then is logged once, at `info`, as still running.
   * @default the `health.timeoutMs` option (1000)
   */
  timeoutMs?: number;
  /**
   * A failing critical check fails the endpoint (503); a non-critical one only makes it `warn` (200).
   * @default true
   */
  critical?: boolean;
  /**
   * Minimum time between two runs: within it, every request gets the last result, whatever the
   * request rate — so 25 instances behind 3 load balancers do not hammer the database.
   * @default the `health.minIntervalMs` option (1000)
   */
  minIntervalMs?: number;
  /** `componentType` in the report (`datastore`, `component`, `system`). */
  componentType?: string;
}

/** One check's entry in a report. */
export interface HealthCheckReport {
  readonly status: HealthStatus;
  /** When the result was taken (ISO 8601). */
  readonly time: string;
  /** How long the run took, in milliseconds. */
  readonly durationMs: number;
  readonly componentType?: string;
  readonly observedValue?: number | string | boolean;
  readonly observedUnit?: string;
  /** Why it warns or fails: in the body only with `health.exposeErrors`. */
  readonly output?: string;
}
