/**
 * What `apprunner-kit check` runs and how: the command, App Runner's contract it is held to, and the
 * bounds of the local run. Built once by the command line (or a test), validated, frozen.
 */

/** App Runner's health-check settings: its documented defaults (seconds and counts). */
export const appRunnerHealthDefaults = Object.freeze({
  intervalS: 5,
  timeoutS: 2,
  healthyThreshold: 1,
  unhealthyThreshold: 5,
});

/** The range App Runner accepts for each health-check setting (interval, timeout, thresholds). */
export const appRunnerHealthRange = Object.freeze({ min: 1, max: 20 });

/** App Runner fails a deployment whose instance is not healthy within this many seconds. */
export const appRunnerStartWindowS = 300;

/** The health check App Runner is configured with, as the checker models it. */
export interface HealthCheckSettings {
  /** `tcp` (App Runner's default: a connection is accepted) or `http` (a 2xx answer on `path`). */
  readonly protocol: 'tcp' | 'http';
  /** Path of the HTTP check. @default '/' */
  readonly path: string;
  /** Seconds between App Runner's checks, 1–20. @default 5 */
  readonly intervalS: number;
  /** Seconds a check may take before it counts as failed, 1–20. @default 2 */
  readonly timeoutS: number;
  /** Consecutive passes that make the instance healthy, 1–20. @default 1 */
  readonly healthyThreshold: number;
  /** Consecutive failures that make it unhealthy (App Runner replaces it), 1–20. @default 5 */
  readonly unhealthyThreshold: number;
}

/** The light keep-alive load sent while the app is asked to stop. */
export interface LoadSettings {
  /** Keep-alive connections, each with one request at a time. @default 4 */
  readonly connections: number;
  /** Requests at most, over the whole run. @default 300 */
  readonly requests: number;
  /** Path requested. Answers of any status count; only a missing answer is a failure. @default '/' */
  readonly path: string;
}

/** Everything one check run needs. */
export interface CheckOptions {
  /** The command and its arguments, started without a shell. */
  readonly command: readonly string[];
  /** `PORT` given to the app, and the port it must listen on. @default 8080 */
  readonly port: number;
  /** Variables added to the app's clean environment (`--env`). */
  readonly env: Readonly<Record<string, string>>;
  /** Working directory of the app; the tree whose files are watched. @default process.cwd() */
  readonly cwd: string;
  readonly health: HealthCheckSettings;
  /** How often this run probes health, in ms: shorter than App Runner's interval so a run is quick. @default 1000 */
  readonly probeIntervalMs: number;
  /** Health probes sent once healthy, for the latency figures. @default 3 */
  readonly healthSamples: number;
  /** How long the app may take to become healthy in this run, in ms. @default 60000 */
  readonly startTimeoutMs: number;
  /** Time from SIGTERM to SIGKILL, in ms. @default 10000 */
  readonly graceMs: number;
  readonly load: LoadSettings;
}

/**
 * While the app starts, health is probed at least this often (ms), so that "healthy after" is
 * precise; App Runner's own phase is unknown anyway, and the estimate adds its interval.
 */
export const startProbeIntervalMs = 250;

/** Defaults of everything but the command. */
export const checkDefaults = Object.freeze({
  port: 8080,
  probeIntervalMs: 1000,
  healthSamples: 3,
  startTimeoutMs: 60_000,
  graceMs: 10_000,
  load: Object.freeze({ connections: 4, requests: 300, path: '/' }),
});

/**
 * The environment the app starts with: `PATH` and `HOME` from this shell (so that the command and
 * npm are found), `PORT`, and the `--env` pairs — nothing else, as on a fresh instance.
 */
export function cleanEnvironment(
  options: Pick<CheckOptions, 'port' | 'env'>,
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (from.PATH !== undefined) env.PATH = from.PATH;
  if (from.HOME !== undefined) env.HOME = from.HOME;
  Object.assign(env, options.env);
  env.PORT = String(options.port);
  return env;
}
