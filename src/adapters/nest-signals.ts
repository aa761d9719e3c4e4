import type { Logger } from 'pino';
import { isFunction } from './adapter.js';

/**
 * What the kit reads of a Nest application's `enableShutdownHooks()` state. Nest 12 keeps one
 * listener per signal (`shutdownCleanupRefs`); Nest 11 and before, one listener on every signal
 * (`shutdownCleanupRef`) and the signals in an array (`activeShutdownSignals`).
 */
export interface NestSignalState {
  enableShutdownHooks?: unknown;
  readonly shutdownCleanupRefs?: unknown;
  readonly shutdownCleanupRef?: unknown;
  readonly activeShutdownSignals?: unknown;
}

/** Nest's `app.enableShutdownHooks(signals?, options?)`. */
type EnableShutdownHooks = (this: unknown, signals?: readonly string[], options?: unknown) => unknown;

/** The signals Nest's `enableShutdownHooks()` takes when given none (its `ShutdownSignal`). */
const allNestSignals: readonly string[] = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGSEGV',
  'SIGUSR2',
  'SIGTERM',
];

/**
 * Takes the listeners of `app.enableShutdownHooks()` off the signals the kit handles: each would run
 * `app.close()` in the middle of the kit's drain (closing what in-flight requests use), then signal
 * the process again, which the kit takes for a second signal and forces the exit. The kit runs
 * `app.close()` itself once the requests are drained. Nest's listeners on other signals (by default
 * it takes SIGHUP, SIGQUIT, SIGUSR2… too) stay, as Nest set them. A later `enableShutdownHooks()`
 * call is passed to Nest for those other signals only. Returns the function that puts
 * `enableShutdownHooks` back.
 */
export function takeShutdownHooks(
  app: NestSignalState,
  kitSignals: readonly string[],
  logger: Logger,
): () => void {
  // The method itself, not what NestFactory's proxy hands out: a wrapper that calls the method the
  // application has at the time, which will be the one defined below.
  const enable: unknown =
    Object.getOwnPropertyDescriptor(app, 'enableShutdownHooks')?.value ??
    Reflect.get(Object.getPrototypeOf(app) ?? {}, 'enableShutdownHooks');
  const taken = takeNestListeners(app, kitSignals);
  if (taken.length > 0) {
    logger.info(
      { signals: taken },
      `the listeners of NestJS's app.enableShutdownHooks() on ${taken.join(', ')} were removed: the kit handles those signals, and runs app.close() (Nest's lifecycle hooks) once the requests are drained`,
    );
  }
  if (!isFunction(enable)) return () => {};
  const instead = function enableShutdownHooksBesideKit(
    this: unknown,
    signals?: readonly string[],
    options?: unknown,
  ): unknown {
    const asked = signals === undefined || signals.length === 0 ? allNestSignals : signals;
    const kept = asked.filter((signal) => kitSignals.includes(String(signal).toUpperCase().trim()));
    if (kept.length > 0) {
      logger.info(
        { signals: kept },
        `NestJS's app.enableShutdownHooks() was called after bootstrapAppRunner: kept off ${kept.join(', ')}, which the kit handles, running app.close() once the requests are drained`,
      );
    }
    const rest = asked.filter((signal) => !kept.includes(signal));
    if (rest.length > 0) (enable as EnableShutdownHooks).call(app, rest, options);
    return this;
  };
  // Defined, not assigned: NestFactory hands out a proxy of the application whose `set` trap sets
  // nothing, while a definition reaches the application itself. Its own method is its class's.
  Object.defineProperty(app, 'enableShutdownHooks', { value: instead, configurable: true, writable: true });
  return () => {
    if (Object.getOwnPropertyDescriptor(app, 'enableShutdownHooks')?.value === instead)
      Reflect.deleteProperty(app, 'enableShutdownHooks');
  };
}

/**
 * Removes Nest's listeners on `kitSignals` and forgets those signals, leaving the others as they
 * are; returns the signals taken. Nest 12 keeps a listener by signal; Nest 11 and before, one
 * listener on each signal of an array, which is updated in place (Nest's own removal would take
 * every signal, and keep the array, so that a later call would add none).
 */
export function takeNestListeners(app: NestSignalState, kitSignals: readonly string[]): string[] {
  const { shutdownCleanupRefs: refs, shutdownCleanupRef: ref, activeShutdownSignals: active } = app;
  if (refs instanceof Map) {
    const taken = [...refs.keys()].map(String).filter((signal) => kitSignals.includes(signal));
    for (const signal of taken) {
      process.removeListener(signal, refs.get(signal) as (...args: unknown[]) => void);
      refs.delete(signal);
    }
    return taken;
  }
  if (!Array.isArray(active) || !isFunction(ref)) return [];
  const taken = active.map(String).filter((signal) => kitSignals.includes(signal));
  for (const signal of taken) {
    process.removeListener(signal, ref as (...args: unknown[]) => void);
    active.splice(active.indexOf(signal), 1);
  }
  return taken;
}
