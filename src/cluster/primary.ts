import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { ConfigurationError } from '../errors.js';
import { processGlobal } from '../internal/process-global.js';
import { createLogger } from '../logging/logger.js';
import { processStdout } from '../logging/stdout-destination.js';
import { relayLines } from './line-relay.js';
import {
  type ClusterOptions,
  type ClusterSettings,
  clusterDefaults,
  parseClusterOptions,
} from './options.js';
import { nodeCluster, primaryPidVariable, workerReportOf } from './worker.js';

/**
 * The handle {@link runCluster} returns.
 *
 * @example
 * ```ts
 * const cluster = runCluster({ exit: false });
 * // … in a test or an embedding process:
 * const code = await cluster.shutdown(); // 0 when every worker drained and exited 0
 * ```
 */
export interface ClusterHandle {
  /**
   * Stops the cluster as a SIGTERM would: no worker is restarted, each is sent SIGTERM, and those
   * still running at `timeoutMs` are killed. Resolves with the exit code (0 when every worker exited
   * 0 or died of that SIGTERM while still loading, else 1) once every worker exited, after the exit
   * function ran. Safe to call twice: one promise.
   */
  shutdown(): Promise<number>;
}

/** Signals the primary handles, and forwards to its workers. */
const signals = ['SIGTERM', 'SIGINT'] as const;

/** A second signal sooner than this after the first is the same one (as the workers take it). */
const sameSignalWindowMs = 100;

/** The longest the exit waits for the primary's lines to be written. */
const flushTimeoutMs = 1_000;

/**
 * The workers' stdio when their stdout is passed on by the primary ({@link relayLines}): stdin and
 * stderr shared, stdout a pipe to the primary, and the IPC channel the cluster needs.
 */
const relayedStdio = ['inherit', 'pipe', 'inherit', 'ipc'];

/**
 * Whether the primary passes its workers' stdout on: yes, unless stdout is a terminal (where the
 * kit writes pretty lines, for a person) or the app set the workers' `stdio` or `silent` itself.
 */
function relaysOutput(cluster: ReturnType<typeof nodeCluster>): boolean {
  if (process.stdout.isTTY === true || cluster.settings.silent === true) return false;
  const stdio = cluster.settings.stdio;
  return stdio === undefined || stdio === relayedStdio;
}

/** Whether a primary of the kit runs in this process. */
const primaryRunning = processGlobal('clusterPrimary.v1', () => ({ running: false }));

/**
 * Runs the primary of a `node:cluster` app: forks the workers (each calls `bootstrapAppRunner`), and
 * on SIGTERM or SIGINT forwards the signal to each of them once, so that each drains as the kit does,
 * waits for them all, and exits. Without it, in a container the platform's SIGTERM reaches the
 * primary (PID 1) alone, which dies at once, and Node ends each worker as its IPC channel closes:
 * the drain never runs and every request in flight is dropped.
 *
 * - While running, a worker that exits is forked again; past `maxRestarts` exits within
 *   `restartWindowMs` (5 in a minute by default), the primary stops restarting, stops the others and
 *   exits 1, so that the platform replaces the instance.
 * - Once stopping, no worker is restarted. Those still running `timeoutMs` after the signal are
 *   killed (SIGKILL). The primary exits 0 when every worker exited 0 (or died of the forwarded
 *   signal while still loading, before the kit handled signals: nothing to drain), else 1.
 * - The workers' stdout (of every worker forked from then on, the app's own too) is passed on by
 *   the primary, a whole line at a time: on a shared pipe, a line longer than 4 KiB from one worker
 *   could be split around another's. Not where stdout is a terminal, nor where the app set the
 *   workers' `stdio` or `silent` (`cluster.setupPrimary`).
 * - Under pm2, use pm2's own cluster mode instead: this says so in a `warn` line.
 * - A second signal within 100 ms of the first is that first one again (Ctrl+C in a terminal reaches
 *   the primary and its workers alike, and the workers take the copy the primary forwards for the
 *   same signal); a later one is forwarded again, and the workers, as the kit does, exit at once.
 * - On Windows, where a process cannot be sent a signal it can catch, signals are not forwarded
 *   (Ctrl+C reaches every process of the console), and `shutdown()` ends the workers at once.
 *
 * Use it on instances with more than one vCPU; on one, run a single process and scale out instead.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) for a bad option or `WEB_CONCURRENCY`, when called
 * in a cluster worker, or when a primary of the kit already runs in this process.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * import express from 'express';
 * import { bootstrapAppRunner, runCluster } from 'apprunner-kit';
 *
 * if (cluster.isPrimary) {
 *   runCluster(); // one worker per vCPU, or WEB_CONCURRENCY
 * } else {
 *   const app = express();
 *   app.get('/hello', (req, res) => res.json({ hello: 'world' }));
 *   await bootstrapAppRunner({ app });
 * }
 * ```
 */
export function runCluster(options: ClusterOptions = {}): ClusterHandle {
  const settings = parseClusterOptions(options, process.env);
  const cluster = nodeCluster();
  if (!cluster.isPrimary) {
    throw new ConfigurationError(
      'runCluster',
      'runCluster was called in a cluster worker: call it in the primary only (if (cluster.isPrimary) runCluster(); else await bootstrapAppRunner({ app })).',
    );
  }
  if (primaryRunning.running) {
    throw new ConfigurationError(
      'runCluster',
      'runCluster was called while it already runs in this process: each call would fork its own workers and handle the same signals. Call it once.',
    );
  }
  primaryRunning.running = true;
  const logger = options.logger ?? createLogger();
  const exit = options.exit === undefined ? (code: number) => process.exit(code) : options.exit;
  return new ClusterPrimary(settings, cluster, logger, exit, () => {
    primaryRunning.running = false;
  }).handle;
}

/** The state of one {@link runCluster}: its workers, their exits, and the stop. */
class ClusterPrimary {
  readonly handle: ClusterHandle;
  readonly #settings: ClusterSettings;
  readonly #cluster: ReturnType<typeof nodeCluster>;
  readonly #logger: Logger;
  readonly #exit: ((code: number) => void) | false;
  readonly #release: () => void;
  readonly #live = new Set<Worker>();
  /** When workers exited on their own, within the restart window. */
  readonly #exits: number[] = [];
  /** The longest `shutdown.timeoutMs` a worker reported; `undefined` while none did. */
  #workerTimeoutMs: number | undefined;
  #stopped: Promise<number> | undefined;
  #resolveStopped: (code: number) => void = () => {};
  /** When the first signal came; `undefined` while none did (a stop by `shutdown()` or a crash loop). */
  #firstSignalAt: number | undefined;
  #failed = false;
  /** The workers whose kit has reported: past its start, it handles the stop signals. */
  readonly #started = new Set<Worker>();
  /** Whether the line saying `timeoutMs` is below the workers' budget was written. */
  #warnedTimeout = false;
  /** The signals sent to the workers so far. */
  readonly #forwarded = new Set<NodeJS.Signals>();
  #deadline: NodeJS.Timeout | undefined;
  readonly #onSignal = (signal: NodeJS.Signals): void => this.#signal(signal);
  /**
   * The stdout of each worker of the kit's passed on, until it ends (the exit waits for them);
   * `undefined` when the workers share stdout.
   */
  readonly #relays: Set<Promise<void>> | undefined;
  readonly #onFork = (worker: Worker): void => {
    const stdout = worker.process.stdout;
    if (stdout === null) return;
    const relay = relayLines(stdout, processStdout());
    if (!this.#live.has(worker) || this.#relays === undefined) return;
    const tracked = relay.then(() => {
      this.#relays?.delete(tracked);
    });
    this.#relays.add(tracked);
  };

  constructor(
    settings: ClusterSettings,
    cluster: ReturnType<typeof nodeCluster>,
    logger: Logger,
    exit: ((code: number) => void) | false,
    release: () => void,
  ) {
    this.#settings = settings;
    this.#cluster = cluster;
    this.#logger = logger;
    this.#exit = exit;
    this.#release = release;
    this.handle = { shutdown: () => this.#stop('shutdown()', undefined) };
    if (relaysOutput(cluster)) {
      this.#relays = new Set();
      cluster.setupPrimary({ stdio: relayedStdio });
      // Every worker from now on, the app's own forks too: each has its stdout piped to the primary.
      cluster.on('fork', this.#onFork);
    }
    for (const signal of signals) process.on(signal, this.#onSignal);
    logger.info(
      {
        workers: settings.workers,
        maxRestarts: settings.maxRestarts,
        restartWindowMs: settings.restartWindowMs,
      },
      `cluster primary forking ${settings.workers} workers`,
    );
    if (process.env.pm_id !== undefined) {
      logger.warn(
        { pm_id: process.env.pm_id },
        "runCluster runs under pm2, which stops it as one process: pm2's shutdown message and wait_ready reach the primary, which neither hears the one nor sends the other, and kill_timeout must cover the primary's timeoutMs; use pm2's own cluster mode instead (instances: N, or pm2-runtime -i N), which signals each worker itself, and call bootstrapAppRunner alone",
      );
    }
    for (let i = 0; i < settings.workers; i++) this.#fork();
  }

  #fork(): void {
    const worker = this.#cluster.fork({ [primaryPidVariable]: String(process.pid) });
    this.#live.add(worker);
    worker.on('message', (message: unknown) => {
      const report = workerReportOf(message);
      if (report === undefined) return;
      this.#started.add(worker);
      this.#workerTimeoutMs = Math.max(this.#workerTimeoutMs ?? 0, report.shutdownTimeoutMs);
      const { timeoutMs } = this.#settings;
      if (timeoutMs !== undefined && report.shutdownTimeoutMs >= timeoutMs && !this.#warnedTimeout) {
        this.#warnedTimeout = true;
        this.#logger.warn(
          { timeoutMs, workerShutdownTimeoutMs: report.shutdownTimeoutMs },
          `runCluster's timeoutMs (${timeoutMs} ms) is not above the workers' shutdown.timeoutMs (${report.shutdownTimeoutMs} ms): a worker still inside its own drain would be killed; leave timeoutMs out (2 s more than the workers' is the default), or raise it`,
        );
      }
    });
    worker.on('error', (error: Error) => {
      this.#logger.warn(
        { err: error, workerPid: worker.process.pid },
        `worker ${worker.process.pid}: ${error.message}`,
      );
    });
    worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) =>
      this.#exited(worker, code, signal),
    );
  }

  #exited(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    this.#live.delete(worker);
    const fields = { workerPid: worker.process.pid, code, signal, workers: this.#live.size };
    const how = signal === null ? `with code ${code}` : `on ${signal}`;
    const started = this.#started.delete(worker);
    if (this.#stopped !== undefined) {
      // Signalled before the kit took over its signals (still loading, or starting up): it had no
      // request to drain, and dying of the signal is its clean end.
      const unstarted = !started && signal !== null && this.#forwarded.has(signal);
      if (code !== 0 && !unstarted) this.#failed = true;
      this.#logger[code === 0 || unstarted ? 'info' : 'error'](
        fields,
        `worker ${worker.process.pid} exited ${how}${unstarted ? ' before it had started: nothing to drain' : ''}`,
      );
      if (this.#live.size === 0) this.#finish();
      return;
    }
    const now = performance.now();
    this.#exits.push(now);
    while (this.#exits.length > 0 && now - this.#exits[0]! > this.#settings.restartWindowMs)
      this.#exits.shift();
    if (this.#exits.length > this.#settings.maxRestarts) {
      this.#logger.error(
        { ...fields, exits: this.#exits.length, restartWindowMs: this.#settings.restartWindowMs },
        `worker ${worker.process.pid} exited ${how}: ${this.#exits.length} workers exited within ${this.#settings.restartWindowMs} ms, more than maxRestarts (${this.#settings.maxRestarts}); not restarting, stopping the others and exiting 1, so that the platform replaces the instance`,
      );
      this.#failed = true;
      void this.#stop('workers keep exiting', undefined);
      return;
    }
    this.#logger.error(fields, `worker ${worker.process.pid} exited ${how} while running: forking another`);
    this.#fork();
  }

  #signal(signal: NodeJS.Signals): void {
    const now = performance.now();
    if (this.#stopped === undefined) {
      this.#firstSignalAt = now;
      this.#logger.info(
        { signal, workers: this.#live.size },
        `received ${signal}: forwarding it to ${this.#live.size} workers`,
      );
      void this.#stop(signal, signal);
      return;
    }
    if (this.#firstSignalAt === undefined) {
      // Stopping already (shutdown(), a crash loop): the workers were sent SIGTERM, and this signal,
      // the platform's as it replaces the instance, is the first, not an impatient second one.
      this.#firstSignalAt = now;
      this.#logger.info({ signal }, `received ${signal} while stopping: the workers' drain goes on`);
      return;
    }
    if (now - this.#firstSignalAt < sameSignalWindowMs) {
      this.#logger.debug({ signal }, `received ${signal} again at once: taken for the same signal`);
      return;
    }
    this.#logger.warn(
      { signal, workers: this.#live.size },
      `received a second ${signal}: forwarding it again, and the workers exit at once`,
    );
    this.#forward(signal);
  }

  /** Stops the cluster once, on `signal` or, when undefined, on the primary's own decision. */
  #stop(reason: string, signal: NodeJS.Signals | undefined): Promise<number> {
    if (this.#stopped !== undefined) return this.#stopped;
    this.#stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    const timeoutMs =
      this.#settings.timeoutMs ??
      (this.#workerTimeoutMs ?? clusterDefaults.workerShutdownTimeoutMs) + clusterDefaults.timeoutMarginMs;
    this.#logger.info({ reason, workers: this.#live.size, timeoutMs }, 'cluster stopping');
    if (this.#live.size === 0) {
      this.#finish();
      return this.#stopped;
    }
    this.#forward(signal);
    this.#deadline = setTimeout(() => this.#kill(timeoutMs), timeoutMs);
    // The workers' IPC channels keep the process alive while they run.
    this.#deadline.unref();
    return this.#stopped;
  }

  /**
   * Sends `signal` to each live worker. On Windows no signal can be caught: one the primary received
   * reached the workers from the console too, and a stop of the primary's own (`signal` undefined)
   * ends them.
   */
  #forward(signal: NodeJS.Signals | undefined): void {
    for (const worker of this.#live) {
      if (process.platform === 'win32') {
        if (signal === undefined) worker.kill();
        continue;
      }
      this.#forwarded.add(signal ?? 'SIGTERM');
      try {
        worker.process.kill(signal ?? 'SIGTERM');
      } catch (error) {
        // Gone between its exit and the event that says so.
        this.#logger.debug({ err: error, workerPid: worker.process.pid }, 'could not signal a worker');
      }
    }
  }

  #kill(timeoutMs: number): void {
    for (const worker of this.#live) {
      this.#logger.error(
        { workerPid: worker.process.pid, timeoutMs },
        `worker ${worker.process.pid} still running ${timeoutMs} ms after the stop began: killed (SIGKILL); keep the workers' shutdown.timeoutMs below runCluster's timeoutMs`,
      );
      this.#failed = true;
      worker.process.kill('SIGKILL');
    }
  }

  #finish(): void {
    clearTimeout(this.#deadline);
    for (const signal of signals) process.off(signal, this.#onSignal);
    this.#cluster.off('fork', this.#onFork);
    this.#release();
    const code = this.#failed ? 1 : 0;
    // Each wait is bounded: the exit must not wait on a stdout that no longer drains, nor on a
    // worker's pipe that a process it started still holds open.
    let done = false;
    let flushBound: NodeJS.Timeout | undefined;
    const end = (): void => {
      if (done) return;
      done = true;
      clearTimeout(flushBound);
      if (this.#exit !== false) this.#exit(code);
      this.#resolveStopped(code);
    };
    const stopped = (): void => {
      if (flushBound !== undefined) return;
      clearTimeout(relayBound);
      this.#logger.info({ exitCode: code }, 'cluster stopped');
      flushBound = setTimeout(end, flushTimeoutMs);
      // The relayed lines go through the kit's stdout writer, which a logger of the app's may not use.
      this.#logger.flush(() => (this.#relays === undefined ? end() : processStdout().flush(end)));
    };
    // The workers' last lines, still in their pipes as they exited, come before the primary's last.
    const relayBound = setTimeout(stopped, flushTimeoutMs);
    void Promise.all(this.#relays ?? []).then(stopped);
  }
}
