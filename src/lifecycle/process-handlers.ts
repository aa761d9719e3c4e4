import type { Logger } from 'pino';
import { nodeRejectionMode } from '../config/node-flags.js';
import { describeThrown } from '../logging/serializers.js';
import type { ShutdownCoordinator } from './shutdown-coordinator.js';

/** What to do on an unhandled promise rejection. */
export type UnhandledRejectionPolicy = 'shutdown' | 'log';

/** Settings of {@link installProcessHandlers}. */
export interface ProcessHandlerSettings {
  readonly signals: readonly NodeJS.Signals[];
  readonly unhandledRejection: UnhandledRejectionPolicy;
  readonly handleProcessErrors: boolean;
}

/** A second signal sooner than this after the first is the same one, delivered twice. */
const sameSignalWindowMs = 100;

/**
 * Installs the process-level listeners: each configured signal starts the shutdown (a second one
 * while draining forces the exit, unless it came within 100 ms of the first); an uncaught exception
 * is logged as fatal with its stack and drains with exit code 1; an unhandled rejection does the
 * same, or is only logged, per policy. Returns the function that removes every listener it added.
 */
export function installProcessHandlers(
  coordinator: ShutdownCoordinator,
  logger: Logger,
  settings: ProcessHandlerSettings,
): () => void {
  let firstSignalAt = Number.NEGATIVE_INFINITY;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (coordinator.state === 'draining' || coordinator.state === 'stopped') {
      // Ctrl+C in a terminal reaches the app twice when it runs under `npm start` (the terminal signals
      // the process group, and npm forwards its own): milliseconds apart, it is the same one.
      if (performance.now() - firstSignalAt < sameSignalWindowMs) {
        logger.debug({ signal }, `received ${signal} again at once: taken for the same signal`);
        return;
      }
      coordinator.force(`second ${signal}`);
    } else {
      firstSignalAt = performance.now();
      logger.info({ signal }, `received ${signal}`);
      warnOtherListeners(signal, onSignal, logger);
      void coordinator.shutdown(signal);
    }
  };
  const onUncaughtException = (error: Error, origin: string): void => {
    logger.fatal({ err: error, origin }, `uncaught exception: ${describeThrown(error)}`);
    void coordinator.shutdown('uncaughtException', true);
  };
  const onUnhandledRejection = (reason: unknown): void => {
    const message = describeThrown(reason);
    if (settings.unhandledRejection === 'log') {
      logger.error({ err: reason }, `unhandled promise rejection: ${message}`);
      return;
    }
    logger.fatal({ err: reason }, `unhandled promise rejection: ${message}`);
    void coordinator.shutdown('unhandledRejection', true);
  };

  const strict = nodeRejectionMode(process.execArgv, process.env.NODE_OPTIONS) === 'strict';
  const ignoreRejection = (): void => {};
  for (const signal of settings.signals) process.on(signal, onSignal);
  if (settings.handleProcessErrors) {
    process.on('uncaughtException', onUncaughtException);
    // With `--unhandled-rejections=strict` Node raises a rejection as an uncaught exception first
    // (origin 'unhandledRejection'), then emits it again once handled: one line, not two. A listener
    // is still there, or Node writes its warning about the rejection twice.
    process.on('unhandledRejection', strict ? ignoreRejection : onUnhandledRejection);
  }
  return () => {
    for (const signal of settings.signals) process.off(signal, onSignal);
    process.off('uncaughtException', onUncaughtException);
    process.off('unhandledRejection', strict ? ignoreRejection : onUnhandledRejection);
  };
}

/**
 * Says, at the signal, that something else handles it too: `@godaddy/terminus` (whose `signal`
 * defaults to SIGTERM), `close-with-grace`, a hand-written handler. Each closes the server under the drain,
 * cutting the requests in flight, or exits the process before the kit is done.
 */
function warnOtherListeners(
  signal: NodeJS.Signals,
  own: (signal: NodeJS.Signals) => void,
  logger: Logger,
): void {
  const others = process.listeners(signal).filter((listener) => listener !== own);
  if (others.length === 0) return;
  logger.warn(
    { signal, otherListeners: others.length },
    `${others.length === 1 ? 'another listener' : `${others.length} other listeners`} of ${signal} run beside the kit's: one that closes the server or exits (@godaddy/terminus: give it signal: 'SIGUSR2'; close-with-grace) cuts the drain short; let the kit handle ${signal} alone (runtime.onShutdown for your own steps)`,
  );
}
