import type { Logger } from 'pino';
import type { NodeRejectionMode } from '../config/node-flags.js';
import { runInRequestThrownOut } from '../http/thrown-out.js';
import { describeThrown } from '../logging/serializers.js';
import { listenerNames, OtherSignalListeners } from './other-signal-listeners.js';
import type { ShutdownCoordinator } from './shutdown-coordinator.js';

/** What to do on an unhandled promise rejection. */
export type UnhandledRejectionPolicy = 'shutdown' | 'log';

/** Settings of {@link installProcessHandlers}. */
export interface ProcessHandlerSettings {
  readonly signals: readonly NodeJS.Signals[];
  readonly unhandledRejection: UnhandledRejectionPolicy;
  /**
   * Whether the app chose `unhandledRejection` (an option): a default `'shutdown'` is `'log'` for a
   * rejection that comes while another `unhandledRejection` listener is installed (the app's, or a
   * framework's), as Node then keeps running on one.
   */
  readonly unhandledRejectionChosen?: boolean | undefined;
  /**
   * Node's `--unhandled-rejections` mode (its command line, `NODE_OPTIONS` or config file): under
   * `strict` it raises a rejection as an uncaught exception first, which the kit's handler takes.
   */
  readonly nodeRejectionMode?: NodeRejectionMode | undefined;
  readonly handleProcessErrors: boolean;
  /**
   * Answers the request a crash happened in (an uncaught exception, or a rejection that shuts down),
   * before the drain: its code is broken, and it would otherwise hold the drain to its deadline.
   */
  readonly failCurrentRequest?: ((error: unknown) => void) | undefined;
  /**
   * Stops {@link holdSignals}, once the handlers are in, and gives the signals it kept: handled as
   * they would have been. Stopped after the handlers are in, not before: with no listener left for a
   * moment, Node stops watching the signal and drops one on its way.
   */
  readonly releaseHeldSignals?: (() => readonly NodeJS.Signals[]) | undefined;
}

/**
 * Keeps the configured signals received while the start awaits something before the handlers are
 * installed (the OpenTelemetry SDK loads for tens of milliseconds): without a listener, SIGTERM ends
 * the process at once, with no line and no hook. Returns the function that stops listening and gives
 * the signals received, for {@link ProcessHandlerSettings.releaseHeldSignals}.
 */
export function holdSignals(signals: readonly NodeJS.Signals[]): () => NodeJS.Signals[] {
  const received: NodeJS.Signals[] = [];
  const hold = (signal: NodeJS.Signals): void => {
    received.push(signal);
  };
  for (const signal of signals) process.on(signal, hold);
  return () => {
    for (const signal of signals) process.off(signal, hold);
    // Given once: a second call has nothing more to hand over.
    return received.splice(0);
  };
}

/** A second signal sooner than this after the first is the same one, delivered twice. */
const sameSignalWindowMs = 100;

/**
 * Uncaught exceptions and rejections written whole, at most: a timer that throws every few
 * milliseconds through a drain would write thousands of `fatal` lines with their stacks. Those past
 * it are counted, and the count written once the runtime stops.
 */
const fatalLinesWritten = 10;

/** What {@link installProcessHandlers} installed. */
export interface ProcessHandlers {
  /**
   * Called once the start is done: warns of other listeners of the signals, while the app can still
   * change (see {@link OtherSignalListeners.noteAtStart}).
   */
  readonly started: () => void;
  /** Removes every listener installed. */
  readonly uninstall: () => void;
}

/**
 * Installs the process-level listeners: each configured signal starts the shutdown (a second one
 * while draining forces the exit, unless it came within 100 ms of the first, or was sent again by
 * another listener of the first that has removed itself since, as Apollo Server's does once stopped;
 * the first signal during a drain that code or a crash started joins it); an uncaught exception is
 * logged as fatal with its stack and drains with exit code 1 (`process.exitCode` too, for a runtime
 * that does not exit the process itself); an unhandled rejection does the same, or is only logged,
 * per policy (with exit code 1 under `--unhandled-rejections=warn-with-error-code`, as Node would).
 * The request a crash happened in is answered at once (`failCurrentRequest`). Once the drain
 * began, past {@link fatalLinesWritten} of them, the rest are counted, and the count written once the
 * runtime stops.
 */
export function installProcessHandlers(
  coordinator: ShutdownCoordinator,
  logger: Logger,
  settings: ProcessHandlerSettings,
): ProcessHandlers {
  let firstSignalAt = Number.NEGATIVE_INFINITY;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (coordinator.state === 'draining' || coordinator.state === 'stopped') {
      if (firstSignalAt === Number.NEGATIVE_INFINITY) {
        // The drain was started by code (runtime.shutdown) or a crash: the platform's SIGTERM that
        // follows is the first signal, not an impatient second one. It joins the drain.
        firstSignalAt = performance.now();
        others.noteFirstSignal(signal, false);
        logger.info({ signal }, `received ${signal} while draining: the drain goes on`);
        return;
      }
      // Ctrl+C in a terminal reaches the app twice when it runs under `npm start` (the terminal signals
      // the process group, and npm forwards its own): milliseconds apart, it is the same one.
      if (performance.now() - firstSignalAt < sameSignalWindowMs) {
        // A listener's quick re-send is this one: it no longer excuses a later signal.
        others.resentBy(signal);
        logger.debug({ signal }, `received ${signal} again at once: taken for the same signal`);
        return;
      }
      // Apollo Server's listener awaits server.stop(), removes itself and sends the signal again, for
      // the process to end as it would have without it: that one is its, however late it comes.
      const sender = others.resentBy(signal);
      if (sender !== undefined) {
        const [name] = listenerNames([sender]);
        logger.info(
          { signal, resentBy: name },
          `received ${signal} again, sent by another listener of it (${name}) that has removed itself since, as Apollo Server's and NestJS's do once stopped: taken for the same signal, the drain goes on`,
        );
        return;
      }
      coordinator.force(`second ${signal}`);
    } else {
      firstSignalAt = performance.now();
      logger.info({ signal }, `received ${signal}`);
      others.noteFirstSignal(signal, true);
      void coordinator.shutdown(signal);
    }
  };
  const others = new OtherSignalListeners(onSignal, settings.signals, logger);
  let writtenDraining = 0;
  let unwritten = 0;
  /** Writes a crash's line, unless too many were written since the drain began (then counts it). */
  const writeFatal = (level: 'fatal' | 'error', fields: Record<string, unknown>, message: string): void => {
    if (coordinator.state === 'draining' || coordinator.state === 'stopped') {
      if (writtenDraining >= fatalLinesWritten) {
        unwritten++;
        return;
      }
      writtenDraining++;
    }
    logger[level](fields, message);
  };
  coordinator.onStopped(() => {
    if (unwritten === 0) return;
    logger.error(
      { uncaughtNotWritten: unwritten },
      `${unwritten} more uncaught exceptions or unhandled rejections came during the drain after the first ${fatalLinesWritten}: not written one by one`,
    );
  });
  const onUncaughtException = (error: Error, origin: string): void => {
    // Node would have exited 1: so does a runtime that leaves the exit to its host (`exit: false`).
    process.exitCode = 1;
    // Thrown out of a request listener, it comes once the request's scope has ended: back in it,
    // its line carries the request's id, and the request is answered.
    runInRequestThrownOut(error, () => {
      writeFatal('fatal', { err: error, origin }, `uncaught exception: ${describeThrown(error)}`);
      settings.failCurrentRequest?.(error);
    });
    void coordinator.shutdown('uncaughtException', true);
  };
  const mode = settings.nodeRejectionMode;
  const strict = mode === 'strict';
  const defaultShutdown =
    settings.unhandledRejection === 'shutdown' && settings.unhandledRejectionChosen === false && !strict;
  if (defaultShutdown && settings.handleProcessErrors) {
    const others = process.listeners('unhandledRejection');
    if (others.length > 0) {
      logger.info(
        { unhandledRejection: 'log', otherListeners: listenerNames(others) },
        "unhandled promise rejections are logged, not a shutdown: an unhandledRejection listener was there before the kit's (the app's, or a framework's such as Next.js's), so Node would keep running on one, and so does the kit; set shutdown.unhandledRejection to 'shutdown' to drain and exit 1 on one instead",
      );
    }
  }
  const onUnhandledRejection = (reason: unknown): void => {
    const message = describeThrown(reason);
    // Read at each rejection: a framework may install its listener after the kit's (Next.js's
    // app.prepare() in beforeListen, an error reporter set up later).
    const others = defaultShutdown
      ? process.listeners('unhandledRejection').filter((listener) => listener !== onUnhandledRejection)
      : [];
    if (settings.unhandledRejection === 'log' || others.length > 0) {
      // Node's contract for this mode: keep running, exit 1 at the end. A listener takes it over.
      if (mode === 'warn-with-error-code') process.exitCode = 1;
      writeFatal(
        'error',
        others.length > 0
          ? { err: reason, unhandledRejection: 'log', otherListeners: listenerNames(others) }
          : { err: reason },
        `unhandled promise rejection: ${message}`,
      );
      return;
    }
    process.exitCode = 1;
    writeFatal('fatal', { err: reason }, `unhandled promise rejection: ${message}`);
    settings.failCurrentRequest?.(reason);
    void coordinator.shutdown('unhandledRejection', true);
  };

  const ignoreRejection = (): void => {};
  for (const signal of settings.signals) process.on(signal, onSignal);
  // Now, before the start goes on: it checks for a shutdown at each of its steps, as for a signal
  // that comes while it awaits (one at the next turn would come after a start with nothing to await).
  for (const signal of settings.releaseHeldSignals?.() ?? []) onSignal(signal);
  if (settings.handleProcessErrors) {
    process.on('uncaughtException', onUncaughtException);
    // With `--unhandled-rejections=strict` Node raises a rejection as an uncaught exception first
    // (origin 'unhandledRejection'), then emits it again once handled: one line, not two. A listener
    // is still there, or Node writes its warning about the rejection twice.
    process.on('unhandledRejection', strict ? ignoreRejection : onUnhandledRejection);
  }
  return {
    started: () => others.noteAtStart(),
    uninstall: () => {
      for (const signal of settings.signals) process.off(signal, onSignal);
      process.off('uncaughtException', onUncaughtException);
      process.off('unhandledRejection', strict ? ignoreRejection : onUnhandledRejection);
    },
  };
}
