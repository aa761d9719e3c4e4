import type { AppExit } from './app-process.js';
import { appRunnerStartWindowS, type HealthCheckSettings } from './check-options.js';
import { hostPort, median, millis, plural, seconds } from './format.js';
import type { HealthObservation, HealthProbeRecord } from './health-watch.js';
import type { ListenObservation } from './listen-watch.js';
import type { LocalAddress } from './local-address.js';
import { type CheckResult, checkRow } from './report.js';

/** What the graders of the start-up need to know about the run. */
export interface StartupContext {
  readonly command: readonly string[];
  readonly port: number;
  readonly localAddress: LocalAddress | undefined;
  readonly startTimeoutMs: number;
  readonly exit: AppExit | undefined;
}

const listenTitle = 'listens on all interfaces at $PORT';

/** How an exit reads in a sentence: `code 1`, `signal SIGKILL`. */
export function describeExit(exit: AppExit): string {
  return exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`;
}

function socketsText(listen: ListenObservation): string {
  return (listen.sockets ?? [])
    .map((s) => (s.family === 6 ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`))
    .join(', ');
}

function spawnFailure(command: readonly string[], error: NodeJS.ErrnoException): string {
  const file = command[0] ?? '';
  return `could not start "${file}": ${error.code ?? 'error'} — ${whyNotStarted(command, file, error)}`;
}

function whyNotStarted(command: readonly string[], file: string, error: NodeJS.ErrnoException): string {
  if (error.code === 'EACCES') return 'not executable (permission denied)';
  if (error.code !== 'ENOENT') return error.message;
  if (command.length === 1 && /\s/.test(file))
    return `no shell runs the command: write its words apart (-- ${file.trim()}), not as one quoted string`;
  return file.includes('/')
    ? 'no such file (a relative path starts from --cwd)'
    : 'not found on the PATH of this shell';
}

/**
 * Grades where and how soon the app listens: `pass` on all interfaces at `$PORT`; `fail` on loopback
 * only, on another port, never, or when it exits or cannot start first; `warn` on one address only,
 * or when the machine gives no way to tell loopback-only from all interfaces.
 */
export function gradeListen(listen: ListenObservation, context: StartupContext): CheckResult {
  const { port } = context;
  const sockets = socketsText(listen);
  const figures = {
    verdict: listen.verdict,
    listeningAfterMs: listen.listeningAtMs ?? null,
    loopbackAccepts: listen.loopbackAccepts,
    localAddress: context.localAddress?.address ?? null,
    localAddressAccepts: listen.addressAccepts ?? null,
    sockets: listen.sockets === undefined ? null : sockets,
  };
  const after = listen.listeningAtMs === undefined ? '' : `, ${seconds(listen.listeningAtMs)} after start`;
  const row = checkRow('listen', listenTitle, figures);
  const address = context.localAddress?.address;
  switch (listen.verdict) {
    case 'all-interfaces':
      if (address === undefined) {
        // Decided from the socket's wildcard address alone: right in practice, but unconfirmed.
        return row(
          'warn',
          `all interfaces on ${port} by its socket (${sockets})${after}, not confirmed by a connection: this machine has no non-loopback address`,
          'run the check where the machine has a network address (a container with its default network) to confirm',
        );
      }
      return row(
        'pass',
        `all interfaces on ${port} (${sockets || `accepts on 127.0.0.1 and ${address}`})${after}`,
      );
    case 'address-only':
      return row(
        'warn',
        `only on one address (${sockets || address}), not on all interfaces${after}`,
        'listen on all interfaces: omit the host, or use 0.0.0.0 (or ::)',
      );
    case 'loopback-only':
      return row(
        'fail',
        `only on loopback (${sockets || `127.0.0.1:${port}`})${after}: App Runner's proxy and health check come from outside the container and are refused`,
        `listen on all interfaces: server.listen(process.env.PORT) without a host, or host '0.0.0.0'`,
      );
    case 'unverified':
      return row(
        'warn',
        `accepts on 127.0.0.1:${port}${after}, but this machine has no non-loopback address and /proc is unreadable: all interfaces not verified`,
        'make sure the server listens without a host (or on 0.0.0.0), not on 127.0.0.1',
      );
    case 'other-port':
      return row(
        'fail',
        `listens on ${sockets}, not on PORT=${port}`,
        'read the port from process.env.PORT: App Runner sets it (8080 unless configured)',
      );
    case 'never':
      return row(
        'fail',
        `nothing listened within ${seconds(context.startTimeoutMs)} (--start-timeout)${listen.sockets === undefined ? '; other ports could not be seen without /proc' : ''}`,
        'see the last lines of its output; App Runner fails a deployment that does not listen within 5 minutes',
      );
    case 'exited': {
      const exit = context.exit;
      return row(
        'fail',
        exit === undefined
          ? 'exited before listening'
          : `exited (${describeExit(exit)}) ${seconds(exit.atMs)} after start, before listening`,
        'see the last lines of its output',
      );
    }
    case 'not-started': {
      const error = context.exit?.spawnError;
      return row(
        'fail',
        error === undefined ? 'could not start' : spawnFailure(context.command, error),
        'check the command after --, and that it is installed',
      );
    }
  }
}

function describeCheck(settings: HealthCheckSettings): string {
  return settings.protocol === 'http' ? `HTTP GET ${settings.path}` : 'TCP connect';
}

function longestFailureRun(records: readonly HealthProbeRecord[]): number {
  let longest = 0;
  let run = 0;
  for (const record of records) {
    run = record.ok ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

/**
 * Grades the health check itself: `pass` when it reaches the healthy threshold and keeps passing
 * well within the timeout; `warn` when a check fails once healthy or the slowest takes over half the
 * timeout; `fail` when it never becomes healthy or fails `unhealthyThreshold` times in a row once
 * healthy (App Runner would replace the instance). `skip` when nothing listened to check.
 */
export function gradeHealth(
  health: HealthObservation | undefined,
  settings: HealthCheckSettings,
  skipped: string,
): CheckResult {
  const title = `health check (${describeCheck(settings)})`;
  const timeoutMs = settings.timeoutS * 1000;
  if (health === undefined) {
    return {
      id: 'health',
      title,
      status: 'skip',
      summary: skipped,
      figures: { protocol: settings.protocol },
    };
  }
  const all = [...health.startChecks, ...health.samples];
  const passed = all.filter((r) => r.ok);
  const latencies = passed.map((r) => r.latencyMs);
  const lastFailure = [...all].reverse().find((r) => !r.ok);
  const sampleFailures = health.samples.filter((r) => !r.ok).length;
  const figures = {
    protocol: settings.protocol,
    path: settings.protocol === 'http' ? settings.path : null,
    endpoint: hostPort(health.endpoint),
    checks: health.startCheckCount + health.samples.length,
    passed: passed.length,
    failedOnceHealthy: sampleFailures,
    latencyMedianMs: latencies.length === 0 ? null : median(latencies),
    latencyMaxMs: latencies.length === 0 ? null : Math.max(...latencies),
    timeoutMs,
    lastError: lastFailure?.error ?? null,
  };
  const row = checkRow('health', title, figures);
  if (health.endedBy !== 'healthy') {
    const streakNote =
      passed.length > 0 && settings.healthyThreshold > 1
        ? `; passed ${plural(passed.length, 'time')} but never ${settings.healthyThreshold} in a row`
        : '';
    return row(
      'fail',
      `never passed: ${plural(health.startCheckCount, 'check')} on ${figures.endpoint}, last failure: ${lastFailure?.error ?? 'none'}${streakNote}`,
      settings.protocol === 'http'
        ? `answer ${settings.path} with a 2xx within ${settings.timeoutS} s (apprunner-kit serves /healthz)`
        : 'accept connections on $PORT on all interfaces',
    );
  }
  const latency = `latency median ${millis(figures.latencyMedianMs ?? 0)}, max ${millis(figures.latencyMaxMs ?? 0)} against the ${millis(timeoutMs)} timeout`;
  const longestRun = longestFailureRun(health.samples);
  if (longestRun >= settings.unhealthyThreshold) {
    return row(
      'fail',
      `failed ${longestRun} times in a row once healthy (unhealthy threshold ${settings.unhealthyThreshold}): App Runner would replace the instance; last failure: ${lastFailure?.error}`,
      'keep the health path free of slow or failing dependencies',
    );
  }
  if (sampleFailures > 0) {
    return row(
      'warn',
      `${sampleFailures} of ${health.samples.length} checks failed once healthy (last: ${lastFailure?.error}); ${latency}`,
      `App Runner replaces an instance after ${settings.unhealthyThreshold} failures in a row`,
    );
  }
  if ((figures.latencyMaxMs ?? 0) > timeoutMs / 2) {
    return row(
      'warn',
      `passes, but slowly: ${latency}`,
      'keep the health path fast: a busy or throttled instance would cross the timeout',
    );
  }
  return row('pass', `${plural(passed.length, 'check')} passed on ${figures.endpoint}; ${latency}`);
}

/**
 * Grades the start window: `pass` when the app is healthy within this run's start timeout and App
 * Runner — checking every `intervalS` — would see it well inside its 5-minute window; `warn` when the
 * estimate is past the window; `fail` when it is not healthy in time.
 */
export function gradeStart(
  health: HealthObservation | undefined,
  settings: HealthCheckSettings,
  context: StartupContext,
  skipped: string,
): CheckResult {
  const title = 'healthy within the start window';
  const windowMs = appRunnerStartWindowS * 1000;
  const base = { startTimeoutMs: context.startTimeoutMs, appRunnerWindowMs: windowMs };
  if (health === undefined) {
    return {
      id: 'start',
      title,
      status: 'skip',
      summary: skipped,
      figures: { ...base, healthyAfterMs: null },
    };
  }
  if (health.healthyAtMs === undefined) {
    const why =
      health.endedBy === 'exited'
        ? `exited (${context.exit === undefined ? 'unknown' : describeExit(context.exit)}) before it was healthy`
        : health.endedBy === 'unreachable'
          ? 'not healthy: it listens where App Runner cannot reach it'
          : `not healthy ${seconds(context.startTimeoutMs)} after start (--start-timeout)`;
    return {
      id: 'start',
      title,
      status: 'fail',
      summary: `${why}; App Runner allows ${appRunnerStartWindowS} s`,
      hint:
        health.endedBy === 'unreachable'
          ? 'listen on $PORT on all interfaces (see listen)'
          : health.endedBy === 'exited'
            ? 'see the last lines of its output'
            : 'listen early and load what is slow afterwards, or raise --start-timeout to see whether it gets there',
      figures: { ...base, healthyAfterMs: null, estimatedOnAppRunnerMs: null },
    };
  }
  // App Runner checks every intervalS, at a phase this run cannot know: it sees the app healthy at most
  // healthyThreshold intervals after the streak of passes began.
  const estimate =
    (health.firstPassAtMs ?? health.healthyAtMs) + settings.healthyThreshold * settings.intervalS * 1000;
  const figures = { ...base, healthyAfterMs: health.healthyAtMs, estimatedOnAppRunnerMs: estimate };
  const summary = `healthy ${seconds(health.healthyAtMs)} after start; App Runner, checking every ${settings.intervalS} s, would see it within ~${seconds(estimate)} of its ${appRunnerStartWindowS} s window`;
  if (estimate > windowMs) {
    return {
      id: 'start',
      title,
      status: 'warn',
      summary,
      hint: 'start faster: the deployment would fail',
      figures,
    };
  }
  return { id: 'start', title, status: 'pass', summary, figures };
}
