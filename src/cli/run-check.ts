import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { ConfigurationError } from '../errors.js';
import { AppProcess } from './app-process.js';
import { type CheckOptions, cleanEnvironment, startProbeIntervalMs } from './check-options.js';
import { type DrainObservation, runDrain } from './drain-run.js';
import { diffSnapshots, type FileChanges, snapshotFiles } from './file-snapshot.js';
import { gradeDrain } from './grade-drain.js';
import { gradeFiles, gradeLogs } from './grade-output.js';
import { gradeHealth, gradeListen, gradeStart, type StartupContext } from './grade-startup.js';
import { type Endpoint, tryConnect } from './health-probe.js';
import { type HealthObservation, sampleHealth, waitUntilHealthy } from './health-watch.js';
import { type ListenObservation, watchListening } from './listen-watch.js';
import { type LocalAddress, pickLocalAddress } from './local-address.js';
import { type CheckReport, type CheckResult, countStatuses } from './report.js';

/** Options of {@link runCheck} that tests and embedders may set; the command line does not. */
export interface RunCheckEnvironment {
  /** The non-loopback address to test "all interfaces" with. @default pickLocalAddress() */
  readonly localAddress?: LocalAddress | undefined;
  /** Where `PATH` and `HOME` of the app's clean environment come from. @default process.env */
  readonly parentEnv?: NodeJS.ProcessEnv;
}

async function assertPortFree(port: number, localAddress: LocalAddress | undefined): Promise<void> {
  const hosts = ['127.0.0.1', ...(localAddress === undefined ? [] : [localAddress.address])];
  for (const host of hosts) {
    if ((await tryConnect({ host, port }, 300)).ok) {
      throw new ConfigurationError(
        '--port',
        `Port ${port} is already in use on ${host}: another process listens there, and the check would grade it instead of the app. Stop it, or pick another port with --port.`,
      );
    }
  }
}

// The app's temp directory, when it lies inside the watched tree, is where scratch files belong.
function tempDirectoryInside(cwd: string, env: Readonly<Record<string, string>>): string[] {
  const tmp = resolve(cwd, env.TMPDIR ?? env.TMP ?? env.TEMP ?? '/tmp');
  return tmp.startsWith(cwd + sep) ? [tmp] : [];
}

async function loadEndpoint(
  port: number,
  localAddress: LocalAddress | undefined,
): Promise<{ endpoint: Endpoint | undefined; note?: string }> {
  if (localAddress !== undefined && (await tryConnect({ host: localAddress.address, port }, 500)).ok) {
    return { endpoint: { host: localAddress.address, port } };
  }
  if ((await tryConnect({ host: '127.0.0.1', port }, 500)).ok) {
    return {
      endpoint: { host: '127.0.0.1', port },
      ...(localAddress === undefined
        ? {}
        : { note: 'the drain was measured on 127.0.0.1, the only address the app accepts on' }),
    };
  }
  return { endpoint: undefined };
}

function procNetAvailable(): boolean {
  return existsSync('/proc/net/tcp');
}

function unreachable(listen: ListenObservation | undefined): boolean {
  if (listen === undefined) return false;
  if (listen.verdict === 'address-only') return listen.addressAccepts === false;
  return listen.verdict === 'loopback-only' || listen.verdict === 'other-port' || listen.verdict === 'never';
}

/**
 * Runs one check: starts `options.command` as App Runner would (a clean environment with `PORT`,
 * stdin closed, its own process group), watches where and how soon it listens, runs the health check
 * until healthy (bounded by the start timeout) and a few more times, stops it with SIGTERM under
 * light keep-alive load (SIGKILL after the grace window), and grades that, its output and the files it
 * wrote in its working directory. The process group is killed on every path.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`, field `--port`) when the port is already in use.
 * @example
 * ```ts
 * const report = await runCheck({ ...options, command: ['node', 'server.js'] });
 * console.log(report.passed, report.checks.map((c) => `${c.id}: ${c.status}`));
 * ```
 */
export async function runCheck(
  options: CheckOptions,
  environment: RunCheckEnvironment = {},
): Promise<CheckReport> {
  const started = performance.now();
  const localAddress = 'localAddress' in environment ? environment.localAddress : pickLocalAddress();
  const notes: string[] = [];
  if (localAddress === undefined) {
    notes.push(
      'this machine has no non-loopback address: "all interfaces" is decided from the sockets in /proc/net/tcp, and health checks go to 127.0.0.1',
    );
  }
  await assertPortFree(options.port, localAddress);
  const cwd = resolve(options.cwd);
  const skipPaths = tempDirectoryInside(cwd, options.env);
  const before = await snapshotFiles(cwd, { skipPaths });

  const app = AppProcess.start(options.command, {
    cwd,
    env: cleanEnvironment(options, environment.parentEnv),
  });
  let listen: ListenObservation | undefined;
  let health: HealthObservation | undefined;
  let drain: DrainObservation | undefined;
  try {
    const healthEndpoint = { host: localAddress?.address ?? '127.0.0.1', port: options.port };
    const listening = watchListening(app, {
      port: options.port,
      localAddress,
      deadlineMs: options.startTimeoutMs,
    }).then((observed) => {
      listen = observed;
      return observed;
    });
    const healthy =
      app.pid === undefined
        ? undefined
        : waitUntilHealthy(app, healthEndpoint, {
            settings: options.health,
            probeIntervalMs: Math.min(options.probeIntervalMs, startProbeIntervalMs),
            deadlineMs: options.startTimeoutMs,
            giveUp: () => unreachable(listen),
          });
    const listened = await listening;
    const start = await healthy;
    if (start !== undefined && listened.verdict !== 'exited' && listened.verdict !== 'not-started') {
      const samples =
        start.endedBy === 'healthy'
          ? await sampleHealth(
              app,
              healthEndpoint,
              options.health,
              options.healthSamples,
              options.probeIntervalMs,
            )
          : [];
      health = { ...start, samples };
    }
    if (listened.verdict !== 'exited' && listened.verdict !== 'not-started') {
      const target = app.running ? await loadEndpoint(options.port, localAddress) : { endpoint: undefined };
      if (target.note !== undefined) notes.push(target.note);
      drain = await runDrain(app, {
        endpoint: target.endpoint,
        ...(target.endpoint === undefined ? { loadSkipped: `nothing accepts on port ${options.port}` } : {}),
        load: options.load,
        graceMs: options.graceMs,
      });
    }
  } finally {
    await app.destroy();
  }

  const notStarted = app.pid === undefined;
  let changes: FileChanges | undefined;
  let after = before;
  if (!notStarted) {
    after = await snapshotFiles(cwd, { skipPaths });
    changes = diffSnapshots(before, after);
  }
  const observed = listen ?? {
    verdict: 'not-started' as const,
    loopbackAccepts: false,
    addressAccepts: undefined,
    sockets: undefined,
    watchedMs: 0,
  };
  if (!notStarted && !procNetAvailable()) {
    notes.push('/proc/net/tcp is not readable here: ports other than $PORT cannot be seen');
  }
  if (before.truncated || after.truncated) notes.push(`the file watch stopped at 20000 entries under ${cwd}`);

  const context: StartupContext = {
    command: options.command,
    port: options.port,
    localAddress,
    startTimeoutMs: options.startTimeoutMs,
    exit: app.exit,
  };
  const skipped =
    observed.verdict === 'not-started'
      ? 'not run: the command did not start'
      : 'not run: the app exited before listening';
  const checks: CheckResult[] = [
    gradeListen(observed, context),
    gradeHealth(health, options.health, skipped),
    gradeStart(health, options.health, context, skipped),
    gradeDrain(drain, skipped, options.command),
    notStarted
      ? gradeLogs(undefined, undefined, skipped)
      : gradeLogs(app.output.tally('stdout'), app.output.tally('stderr'), skipped),
    gradeFiles(
      changes,
      { root: cwd, watched: after.files.size, truncated: before.truncated || after.truncated },
      skipped,
    ),
  ];
  const counts = countStatuses(checks);
  return {
    tool: 'apprunner-kit check',
    schemaVersion: 1,
    command: options.command,
    cwd,
    port: options.port,
    localAddress: localAddress?.address ?? null,
    health: options.health,
    probeIntervalMs: options.probeIntervalMs,
    startTimeoutMs: options.startTimeoutMs,
    graceMs: options.graceMs,
    load: options.load,
    durationMs: Math.round(performance.now() - started),
    checks,
    counts,
    passed: counts.fail === 0,
    notes,
    lastLines: app.output.tail(),
    failureLine: app.output.failure() ?? null,
  };
}
