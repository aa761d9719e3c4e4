import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { isMainThread, threadId } from 'node:worker_threads';
import type { Logger } from 'pino';
import { type AdapterKit, type InstalledApp, inFront } from './adapters/adapter.js';
import { kitServerAdapters, selectAdapter } from './adapters/select.js';
import { clusterPrimary, meetClusterPrimary } from './cluster/worker.js';
import { type KitConfig, loadConfig } from './config/config.js';
import { launcherWarnings, recogniseLauncher } from './config/launcher.js';
import { nodeRejectionMode, nodeWarningSwitches } from './config/node-flags.js';
import type { BootstrapOptions, NodeRequestListener } from './config/options.js';
import { powertoolsWarning } from './config/powertools.js';
import { detectTestRunner, testRunnerNote } from './config/test-runner.js';
import { ConfigurationError, ListenError, StartAbortedError } from './errors.js';
import { HealthEndpoints } from './health/endpoints.js';
import { eventLoopDelayProbe } from './health/probes/event-loop.js';
import { HealthRegistry } from './health/registry.js';
import { durationSlot, getMutableRequestContext } from './http/context.js';
import { LoadShedder } from './http/load-shedder.js';
import { logRejectedRequests } from './http/rejected-requests.js';
import { setRequestErrorReporter } from './http/request-errors.js';
import { requestFieldLimits } from './http/request-fields.js';
import { requestMatcher } from './http/request-match.js';
import { guardedPredicate } from './http/request-predicate.js';
import { RequestScope } from './http/request-scope.js';
import { failCrashedRequest } from './lifecycle/crashed-request.js';
import { type Pm2Messages, pm2Messages } from './lifecycle/pm2-messages.js';
import { holdSignals, installProcessHandlers, type ProcessHandlers } from './lifecycle/process-handlers.js';
import { assertProcessFree, claimProcess } from './lifecycle/process-owner.js';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';
import { adoptAppLogger, askedLogging, warnDifferences, withLoggerSettings } from './logging/app-logger.js';
import { endHeldLines, whenLinesHeld } from './logging/held-lines.js';
import { buildLogger, kitLoggerSettings } from './logging/logger.js';
import { logProcessWarnings } from './logging/process-warnings.js';
import { redaction } from './logging/redaction.js';
import { requestLineHook } from './logging/request-line.js';
import { describeThrown } from './logging/serializers.js';
import { startMetrics } from './metrics/start.js';
import type { AppRunnerRuntime } from './runtime.js';
import { SecretStore } from './secrets/secret-store.js';
import { startTracing } from './tracing/start.js';

function listen(server: Server, config: KitConfig): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const where = `${config.host ?? 'all interfaces'} port ${config.port}`;
      const fix =
        error.code === 'EADDRINUSE'
          ? "Another process holds the port, or this one does: the kit listens itself, so remove the app's own app.listen() or server.listen(); otherwise stop the other process, or set PORT (or options.port) to a free one."
          : error.code === 'EACCES'
            ? 'Ports below 1024 need privileges: use a higher port, such as 8080.'
            : 'Check options.host and the PORT variable.';
      reject(new ListenError(`Could not listen on ${where}: ${error.message}. ${fix}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen({ port: config.port, host: config.host }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** The kit's timeouts, on its own server or the framework's (Node reads them at check time). */
function applyTimeouts(server: Server, config: KitConfig): void {
  server.keepAliveTimeout = config.server.keepAliveTimeoutMs;
  server.headersTimeout = config.server.headersTimeoutMs;
  server.requestTimeout = config.server.requestTimeoutMs;
}

function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve, reject) => logger.flush((error) => (error ? reject(error) : resolve())));
}

/**
 * The HTTPS server of `server.tls`. OpenSSL's own errors (`no start line`, `key values mismatch`)
 * name neither the option nor the fix: the likeliest mistakes are a file's path given for its PEM
 * contents, and a key of another certificate.
 */
function httpsServer(tls: HttpsServerOptions, listener: NodeRequestListener): Server {
  try {
    return createHttpsServer(tls, listener);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const hint =
      code === 'ERR_OSSL_PEM_NO_START_LINE'
        ? 'give the PEM contents (readFileSync(path)), not a path, and check that the file is a PEM certificate and key'
        : code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH'
          ? 'the key does not belong to the certificate: give the key the certificate was issued for'
          : "check server.tls's key and cert (Node's https.ServerOptions)";
    throw new ConfigurationError(
      'server.tls',
      `Invalid server.tls: ${error instanceof Error ? error.message : String(error)}; ${hint}.`,
      { cause: error },
    );
  }
}

/** What the start has running once the process handlers are in. */
interface Started {
  readonly tracing: Awaited<ReturnType<typeof startTracing>>;
  readonly metrics: ReturnType<typeof startMetrics>;
  readonly coordinator: ShutdownCoordinator;
  readonly cancelHeldLines: () => void;
  readonly uninstallWarnings: () => void;
  readonly handlers: ProcessHandlers;
  readonly pm2: Pm2Messages;
}

/**
 * Starts the kit: validates the configuration, builds the logger, installs the signal and error
 * handlers, and — with `options.app` — serves the app on `PORT` on all interfaces, with the request
 * scope and the `/healthz` and `/readyz` endpoints in front of it. Resolves once the server listens.
 * Delete your own `listen()` call: the kit owns the server.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) for a bad option or environment variable, and
 *   in a worker thread, unless `shutdown` neither listens for signals nor exits.
 * @throws UnsupportedAppError (`ARK_APP_UNSUPPORTED`) when `app` is not an app the kit recognises.
 * @throws FastifyBootingError (`ARK_FASTIFY_BOOTING`) when `app` is a Fastify instance given from
 *   inside one of its own plugins (fastify-cli's `app.js`), which cannot be ready before it returns.
 * @throws ListenError (`ARK_LISTEN_FAILED`) when the port cannot be bound.
 * @throws StartAbortedError (`ARK_START_ABORTED`) with `shutdown.exit: false`, when a shutdown (a
 * SIGTERM) began before the server listened; once that shutdown is done.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { bootstrapAppRunner } from 'apprunner-kit';
 *
 * const app = express();
 * app.get('/hello', (req, res) => res.json({ hello: 'world' }));
 * const runtime = await bootstrapAppRunner({ app });
 * runtime.onShutdown('database', () => pool.end());
 * ```
 */
export async function bootstrapAppRunner(options: BootstrapOptions = {}): Promise<AppRunnerRuntime> {
  const progress: { logger?: Logger } = {};
  try {
    return await start(options, progress);
  } catch (error) {
    // One line, where the app's lines go, that names the fix (a shutdown that stopped the start
    // wrote its own). Left uncaught, the error is printed by Node.js too, on stderr, as plain text.
    if (progress.logger !== undefined && !(error instanceof StartAbortedError))
      progress.logger.error({ err: error }, `the start failed: ${describeThrown(error)}`);
    throw error;
  }
}

/** {@link bootstrapAppRunner}'s start; `progress.logger` is set once the logger is built. */
async function start(options: BootstrapOptions, progress: { logger?: Logger }): Promise<AppRunnerRuntime> {
  const loaded = loadConfig(options, process.cwd(), detectTestRunner());
  const { exit } = loaded;
  // A runtime that handles the process's signals or exits it: one at a time.
  const ownsProcess = exit !== false || loaded.config.shutdown.signals.length > 0;
  if (ownsProcess && !isMainThread) {
    // Signals reach the main thread only: a worker thread's runtime would never drain, nor exit.
    throw new ConfigurationError(
      'shutdown.signals',
      `bootstrapAppRunner() was called in a worker thread (threadId ${threadId}): signals reach the main thread only, so its shutdown and hooks would never run; call bootstrapAppRunner in the main thread; use createLogger() in worker threads (or, to drive a worker's runtime yourself, pass shutdown: { signals: [], exit: false } and call runtime.shutdown()).`,
    );
  }
  if (ownsProcess) assertProcessFree();
  const adapter = options.app === undefined ? undefined : selectAdapter(options.app, options.adapter);

  // A logger the app built with createLogger (Fastify's loggerInstance) writes the kit's lines too,
  // when built as the options given ask: one logger, one shape of line, for the app's lines and ours.
  const adoption =
    loaded.logger === undefined && adapter?.loggerOf !== undefined
      ? adoptAppLogger(adapter.loggerOf(options.app as never), askedLogging(options, loaded))
      : undefined;
  // Adopted, the logger's settings are the config's: its service names the spans and metrics. A
  // logger of createLogger given as it is (logging.logger) lends the config its logging settings.
  const givenSettings = kitLoggerSettings(loaded.logger);
  const config: KitConfig =
    adoption?.adopted === true
      ? adoption.config
      : givenSettings === undefined
        ? loaded.config
        : withLoggerSettings(loaded.config, givenSettings);
  const logger =
    loaded.logger ??
    (adoption?.adopted === true ? adoption.logger : undefined) ??
    buildLogger({
      service: config.service,
      level: config.logging.level,
      redact: config.logging.redact,
      debugSampleRate: config.logging.debugSampleRate,
      ...(config.logging.debugRequests === undefined ? {} : { debugRequests: config.logging.debugRequests }),
      pretty: config.logging.pretty,
      maxLineBytes: config.logging.maxLineBytes,
      messageKey: config.logging.messageKey,
      buffer: config.logging.buffer,
      ...(config.version === undefined ? {} : { version: config.version }),
      ...(config.region === undefined ? {} : { region: config.region }),
      ...(loaded.destination === undefined ? {} : { destination: loaded.destination }),
    });
  progress.logger = logger;
  if (adoption?.adopted === false) warnDifferences(logger, adapter!.name, adoption.differences);
  const testRunner = testRunnerNote(loaded.testRunner);
  if (testRunner !== undefined) logger.info(testRunner.fields, testRunner.message);
  const { debugRequests } = config.logging;
  // A logger the kit did not build writes what its own level lets through, picked request or not.
  if (
    loaded.logger !== undefined &&
    givenSettings === undefined &&
    (config.logging.debugSampleRate > 0 || debugRequests !== undefined)
  ) {
    logger.warn(
      'logging.debugSampleRate and logging.debugRequests still pick requests (getRequestContext().debugSampled), but a logging.logger that createLogger did not build writes what its own level lets through: build it with createLogger({ debugSampleRate, debugRequests }) to have picked requests write their debug lines',
    );
  }
  const recognised = recogniseLauncher(loaded.parsedEnv);
  // Whose cluster worker this process is, if one: read once, for the launcher and the primary.
  const primary = clusterPrimary();
  // A worker of the kit's primary inherits pm2's variables, but its parent is that primary, not pm2.
  const launcher = primary === 'kit' ? { ...recognised, pm2: undefined } : recognised;
  const nodeConfigFile = loaded.node.configFile;
  if (nodeConfigFile !== undefined) {
    logger.warn(
      { nodeConfigFile: nodeConfigFile.path, err: nodeConfigFile.error },
      `Node's config file ${nodeConfigFile.path} could not be read (${describeThrown(nodeConfigFile.error)}): the kit does not see its nodeOptions (unhandled-rejections, warnings, disable-warning, redirect-warnings) and goes by the command line and NODE_OPTIONS alone; give them there, or let the app read the file (--allow-fs-read)`,
    );
  }
  for (const { fields, message } of launcherWarnings(launcher, {
    platform: config.tracing.platform,
    platformFrom: config.tracing.platformFrom,
    shutdownTimeoutMs: config.shutdown.timeoutMs,
  }))
    logger.warn(fields, message);
  const powertools = powertoolsWarning(loaded.env, options);
  if (powertools !== undefined) logger.warn(powertools.fields, powertools.message);
  // Before anything is started: a malformed reference or secret option then throws with nothing to
  // undo (no signal handler installed, no claim on the process).
  const secrets = new SecretStore({
    secrets: options.secrets,
    options: options.secretOptions,
    env: loaded.env,
    logger,
  });
  const scope = new RequestScope({
    debugSampleRate: config.logging.debugSampleRate,
    debugRequests:
      debugRequests === undefined
        ? undefined
        : guardedPredicate(debugRequests, 'logging.debugRequests', (error) =>
            logger.warn(
              { err: error },
              'logging.debugRequests failed (it threw, or returned a promise): the request is not picked for debug lines; this line is written once',
            ),
          ),
    requestIdHeader: config.logging.requestIdHeader,
    propagators: config.tracing.propagators,
    quiet:
      loaded.quietRequests === undefined
        ? undefined
        : requestMatcher(loaded.quietRequests, 'quietRequests', (error) =>
            logger.warn(
              { err: error },
              'quietRequests threw: the request is treated as not quiet (logged, traced, counted); this line is written once',
            ),
          ),
    fieldsDropped: (_context, dropped) => {
      // Bounded: the names come from the app, which may pass anything (a whole query string).
      const shown = dropped
        .slice(0, 10)
        .map((name) => (name.length > 64 ? `${name.slice(0, 64).toWellFormed()}…` : name));
      const more = dropped.length > shown.length ? ` and ${dropped.length - shown.length} more` : '';
      logger.warn(
        { dropped: shown, droppedCount: dropped.length, limits: requestFieldLimits },
        `addRequestFields dropped ${dropped.length === 1 ? 'a field' : `${dropped.length} fields`} (${shown.join(', ')}${more}): a reserved name, a value that is not a string, number, boolean or null, a value too long, or past the limit of fields per request; this line is written once per request`,
      );
    },
    routeRefused: (_context, route, reason) => {
      // A string bounded, as above, and not under `route`, the request line's own field; the reason
      // names the type of anything else (whose String() may throw).
      logger.warn(
        typeof route === 'string'
          ? { refusedRoute: route.length > 64 ? `${route.slice(0, 64).toWellFormed()}…` : route }
          : {},
        `setRequestRoute refused the route (${reason}): a route is a string of 1 to 256 characters without control characters, such as '/posts/:id', other than the metrics' own (none) and other; the request keeps its route; this line is written once per request`,
      );
    },
  });
  // Claimed before anything awaits: two starts at once must not both pass the check above.
  const releaseClaim = ownsProcess ? claimProcess(config.service) : undefined;
  // Tracing's SDK loads for tens of milliseconds before the signal handlers are in: a SIGTERM then is
  // kept, and handled once they are (they are installed after tracing, whose flush they run).
  const releaseSignals = holdSignals(config.shutdown.signals);
  let started: Started;
  try {
    started = await startUntilHandled();
  } catch (error) {
    // Nothing will handle the signals kept: as they would have, before the kit listened.
    for (const signal of releaseSignals()) process.kill(process.pid, signal);
    releaseClaim?.();
    throw error;
  }
  const { tracing, metrics, coordinator, cancelHeldLines, uninstallWarnings, handlers, pm2 } = started;
  // In a cluster worker: the kit's primary waits for this worker's shutdown budget; another primary
  // kills it on the platform's SIGTERM, which the warning says.
  if (ownsProcess) meetClusterPrimary(logger, primary, { shutdownTimeoutMs: config.shutdown.timeoutMs });

  /** From tracing's start to the process handlers, which take over the signals kept meanwhile. */
  async function startUntilHandled(): Promise<Started> {
    const tracing = await startTracing(config.tracing, {
      logger,
      scope,
      service: config.service,
      version: config.version,
      region: config.region,
      requestIdHeader: scope.requestIdHeader,
      trustedProxies: config.server.trustedProxies,
    });
    const metrics = startMetrics(config.metrics, {
      scope,
      logger,
      service: config.service,
      destination: loaded.metricsDestination,
    });
    // First: a failed request's held lines are written ahead of its request line. Once a logger holds
    // lines, which may be built after the kit started (Fastify's `loggerInstance`).
    const cancelHeldLines = whenLinesHeld(() => scope.onFinish(endHeldLines, { first: true }));
    if (config.logging.requests) {
      scope.onFinish(
        requestLineHook(logger, {
          levels: config.logging.requestLevels,
          query: config.logging.query,
          trustedProxies: config.server.trustedProxies,
        }),
      );
    }

    // A clean exit keeps a code set on the way (`process.exitCode`: an unhandled rejection under
    // `--unhandled-rejections=warn-with-error-code`, the app's own), as Node's own exit would.
    const exitFn =
      exit === undefined ? (code: number) => (code === 0 ? process.exit() : process.exit(code)) : exit;
    const coordinator = new ShutdownCoordinator(config.shutdown, logger, exitFn);
    if (releaseClaim !== undefined) coordinator.onStopped(releaseClaim);
    // Final steps run in this order: spans are exported after the last hook (the kit's, and those of
    // another SDK's global tracer provider, which the exit would cut short), then the metrics of the
    // last interval, and the logger flush comes last, so that what the tracer logs on the way out and
    // the metrics' lines (on the same stdout writer) are written too.
    coordinator.onFinal('tracer flush', () => tracing.shutdown(), config.shutdown.hookTimeoutMs);
    coordinator.onFinal('metrics flush', () => metrics.flush(), config.shutdown.hookTimeoutMs);
    // Bounded by what is left of the deadline only: lines still queued for a slow stdout are the last
    // thing worth waiting for.
    coordinator.onFinal('logger flush', () => flushLogger(logger), config.shutdown.timeoutMs);
    const uninstallWarnings = logProcessWarnings(
      logger,
      nodeWarningSwitches(loaded.node.flags, loaded.parsedEnv.NODE_NO_WARNINGS),
    );
    const handlers = installProcessHandlers(coordinator, logger, {
      ...config.shutdown,
      unhandledRejectionChosen: options.shutdown?.unhandledRejection !== undefined,
      nodeRejectionMode: nodeRejectionMode(loaded.node.flags),
      failCurrentRequest: (error) => failCrashedRequest(coordinator, logger, error),
      releaseHeldSignals: releaseSignals,
    });
    const pm2 = pm2Messages(launcher.pm2, coordinator, logger, config.shutdown.signals.length > 0);
    // With an app, the kit's server will keep the process alive (and the start does until it listens).
    if (adapter !== undefined) pm2.serve();
    return { tracing, metrics, coordinator, cancelHeldLines, uninstallWarnings, handlers, pm2 };
  }
  const uninstall = () => {
    cancelHeldLines();
    handlers.uninstall();
    uninstallWarnings();
    void tracing.shutdown();
    metrics.stop();
  };
  coordinator.onStopped(uninstall);

  // Once stopped: after the shutdown hooks, which may read secrets, and after a failed start too.
  coordinator.onStopped(() => {
    secrets
      .close()
      .catch((error: unknown) =>
        logger.warn(
          { err: error },
          'an AWS client of the secrets could not be destroyed: its sockets may stay open',
        ),
      );
  });
  const health = new HealthRegistry(config.health, logger);
  if (config.health.eventLoopStallMs !== undefined) {
    const stall = eventLoopDelayProbe({ maxDelayMs: config.health.eventLoopStallMs });
    health.register('eventLoop:stall', stall, { kind: 'liveness', componentType: 'system' });
    coordinator.onStopped(stall.stop);
  }
  const endpoints = new HealthEndpoints(
    { ...config.health, serviceId: config.service, version: config.version },
    health,
    () => coordinator.state,
  );
  const shedding = config.loadShedding;
  const shedder =
    shedding === undefined
      ? undefined
      : new LoadShedder(
          {
            ...shedding,
            requestIdHeader: scope.requestIdHeader,
            exempt:
              shedding.exempt === undefined
                ? undefined
                : requestMatcher(shedding.exempt, 'loadShedding.exempt', (error) =>
                    logger.warn(
                      { err: error },
                      'loadShedding.exempt failed (it threw, or returned a promise): the request is not exempt; this line is written once',
                    ),
                  ),
          },
          logger,
        );
  if (shedder !== undefined) {
    coordinator.onStopped(() => shedder.stop());
    const readiness = config.loadShedding!.readiness;
    if (readiness !== 'off') {
      health.register(
        'loadShedding:pressure',
        () => ({ status: shedder.pressure ? readiness : 'pass', observedValue: shedder.shed }),
        { componentType: 'system', minIntervalMs: 0 },
      );
    }
  }
  metrics.observe({ health, shedder });
  const kit: AdapterKit = {
    scope,
    health: endpoints,
    logger,
    logHealthRequests: config.logging.healthRequests,
    shutdownSignals: config.shutdown.signals,
    shedder,
    reportError: (error) => {
      const context = getMutableRequestContext();
      // Reported again (Koa 3 emits a broken stream body's error twice): it is on the line already.
      if (context !== undefined && context.error === error) return;
      if (context !== undefined) context.error = error;
      // With the request line on, the error goes out with it; otherwise, or when its line was written
      // already (an error passed on after the response ended), on a line of its own.
      if (context === undefined || !config.logging.requests || context[durationSlot] !== undefined)
        logger.error({ err: error }, 'request error');
    },
  };
  // For a logger that learns of a route's error only by a log call (nestLogger: Nest's exception filter).
  coordinator.onStopped(setRequestErrorReporter(kit.reportError));
  const createRequestListener = (listener: NodeRequestListener) => inFront(kit, listener);

  let server: Server | undefined;
  const runtime: AppRunnerRuntime = {
    config,
    logger,
    redaction,
    secrets,
    tracer: tracing.tracer,
    metrics: metrics.api,
    health,
    get server() {
      return server;
    },
    get state() {
      return coordinator.state;
    },
    signal: coordinator.signal,
    get inFlight() {
      return scope.inFlight;
    },
    stats: () => ({
      inFlight: scope.inFlight,
      served: scope.served,
      shed: shedder?.shed ?? 0,
      pressure: shedder?.pressure ?? false,
      upgraded: coordinator.upgraded,
    }),
    onShutdown: (name, fn, hookOptions) => coordinator.onShutdown(name, fn, hookOptions),
    track: (promise, name) => coordinator.track(promise, name),
    shutdown: (reason = 'runtime.shutdown()') => coordinator.shutdownByApp(reason),
    createRequestListener,
    manageServer: (managed) => {
      coordinator.addServer(managed);
      // The app's server keeps the process alive from now on: pm2's shutdown message may be heard.
      pm2.serve();
    },
  };

  // A SIGTERM may come while the start-up awaits (secrets, beforeListen, the framework's ready): the
  // shutdown then runs without a server, and the start goes no further.
  const stopping = () => coordinator.state !== 'starting';
  // A step that failed once the shutdown began (beforeListen given up on runtime.signal) is its cause.
  const abortStart = async (cause?: unknown): Promise<never> => {
    const { reason } = await coordinator.shutdown('start-up');
    throw new StartAbortedError(
      `The start-up was stopped by a shutdown (${reason}) before the server listened; the shutdown ran its hooks and flushes.`,
      cause === undefined ? undefined : { cause },
    );
  };
  const failStart = (error: unknown): Promise<never> => {
    if (stopping()) return abortStart(error);
    coordinator.abandon();
    throw error;
  };
  // The kit's own server is made before beforeListen, which may attach Socket.IO or ws to it: they
  // then stand in front of the kit's listener, as when attached once the kit started. Until the app
  // is installed, its one listener is this stand-in (no request arrives before it listens).
  let serve: NodeRequestListener | undefined;
  const standIn: NodeRequestListener = (req, res) => serve?.(req, res);
  try {
    await secrets.load();
    if (!stopping() && adapter !== undefined && kitServerAdapters.has(adapter)) {
      const { tls } = config.server;
      server = tls === undefined ? createServer(standIn) : httpsServer(tls, standIn);
    }
    if (!stopping()) await options.beforeListen?.(runtime);
  } catch (error) {
    return failStart(error);
  }
  if (stopping()) return abortStart();

  if (adapter !== undefined) {
    let installed: InstalledApp;
    try {
      installed = adapter.install(options.app as never, kit);
      if (installed.uninstall !== undefined) coordinator.onStopped(installed.uninstall);
      scope.routeOf = installed.routeOf;
      const { tls } = config.server;
      if (installed.server !== undefined && tls !== undefined) {
        throw new ConfigurationError(
          'server.tls',
          `Invalid server.tls: the ${installed.kind} app brings its own server, which the kit does not create; give the certificate to the framework instead (fastify({ https: { key, cert } }), NestFactory.create(AppModule, { httpsOptions: { key, cert } })), and the kit drains that server the same way.`,
        );
      }
      if (server !== undefined && installed.listener !== undefined) {
        serve = installed.listener;
        // Nothing took the stand-in in beforeListen: the app's listener replaces it, with no call between.
        const listeners = server.listeners('request');
        if (listeners.length === 1 && listeners[0] === standIn) {
          server.removeListener('request', standIn);
          server.on('request', serve);
        }
      } else {
        server =
          installed.server ??
          (tls === undefined ? createServer(installed.listener!) : httpsServer(tls, installed.listener!));
      }
      applyTimeouts(server, config);
      // Fastify's server has its own `clientError` handler; Node's, without one, writes no line.
      if (server.listenerCount('clientError') === 0)
        coordinator.onStopped(logRejectedRequests(server, logger));
      if (installed.afterDrain !== undefined)
        coordinator.onDrained(`${installed.kind} close`, installed.afterDrain);
      await installed.ready?.();
      // Added just before it listens, so that a shutdown under way never drains a server that then listens.
      if (!stopping()) coordinator.addServer(server, true);
    } catch (error) {
      return failStart(error);
    }
    if (stopping()) return abortStart();
    let address: AddressInfo;
    try {
      address = await listen(server, config);
    } catch (error) {
      return failStart(error);
    }
    // A shutdown that began while it bound drained it as not listening yet: nothing else closes it.
    if (stopping()) {
      server.close();
      return abortStart();
    }
    logger.info(
      {
        port: address.port,
        address: address.address,
        framework: installed.kind,
        ...(server instanceof TlsServer ? { protocol: 'https' } : {}),
      },
      `listening on port ${address.port}`,
    );
  }
  // Now, once the app's own start (an Apollo Server started, a Nest app's listeners taken off) is done.
  handlers.started();
  coordinator.markReady();
  // Without an app, the app listens itself, later: it tells pm2 it is ready (docs/shutdown.md).
  if (adapter !== undefined) pm2.ready();
  return runtime;
}
