import type { Logger } from 'pino';

/** A listener of a process event, as `process.listeners()` gives it. */
type Listener = (...args: never[]) => unknown;

/** Names of listeners, for a line (an arrow function assigned to nothing has none). */
export function listenerNames(listeners: Iterable<Listener>): string[] {
  return Array.from(listeners, (listener) => listener.name || 'anonymous');
}

/**
 * The listeners of the kit's signals other than its own: Apollo Server's (`stopOnTerminationSignals`,
 * on by default), `@godaddy/terminus`'s (whose `signal` defaults to SIGTERM), `close-with-grace`,
 * NestJS's `enableShutdownHooks()` on an app the kit was not given, a hand-written handler. Each runs
 * beside the kit's drain, and one that closes the server or exits cuts it short: the kit warns of
 * them at the end of the start, when the app can still change, and at the signal.
 *
 * Several clean up, remove themselves and send the signal again, for the process to end as it would
 * have without them (Apollo Server, NestJS, `signal-exit`): that signal is theirs, not an impatient
 * second one, and must not force the exit (see {@link OtherSignalListeners.resentBy}).
 */
export class OtherSignalListeners {
  readonly #own: Listener;
  readonly #signals: readonly NodeJS.Signals[];
  readonly #logger: Logger;
  /**
   * The first signal, and those of its other listeners that may still send it again: those still
   * installed once its emit is done (a `process.once` listener, which Node removes at the emit, or one
   * that removes itself there, is a clean-up, not a sender).
   */
  #first: { readonly signal: NodeJS.Signals; readonly senders: Set<Listener> } | undefined;

  constructor(own: Listener, signals: readonly NodeJS.Signals[], logger: Logger) {
    this.#own = own;
    this.#signals = signals;
    this.#logger = logger;
  }

  /** At the end of the start: warns of the other listeners of the signals in one line, while the app can still be changed. */
  noteAtStart(): void {
    const signals: NodeJS.Signals[] = [];
    const all = new Set<Listener>();
    for (const signal of this.#signals) {
      const others = this.#others(signal);
      if (others.length === 0) continue;
      signals.push(signal);
      for (const listener of others) all.add(listener);
    }
    if (all.size === 0) return;
    const names = listenerNames(all);
    this.#logger.warn(
      { signals, otherListeners: names },
      `${all.size === 1 ? 'another listener' : `${all.size} other listeners`} of ${signals.join(' and ')} ${all.size === 1 ? 'is' : 'are'} installed beside the kit's (${names.join(', ')}): ${advice(signals)}`,
    );
  }

  /**
   * At the first signal (one that started the drain, or that joined a drain code or a crash started):
   * remembers its other listeners, which may send it again, and, with `warn`, warns of them.
   */
  noteFirstSignal(signal: NodeJS.Signals, warn: boolean): void {
    const others = this.#others(signal);
    const first = { signal, senders: new Set<Listener>() };
    this.#first = first;
    // Once every listener of this emit has run: those it removed are no senders.
    process.nextTick(() => {
      for (const listener of this.#others(signal)) first.senders.add(listener);
    });
    if (!warn || others.length === 0) return;
    const names = listenerNames(others);
    this.#logger.warn(
      { signal, otherListeners: names },
      `${others.length === 1 ? 'another listener' : `${others.length} other listeners`} of ${signal} ${others.length === 1 ? 'runs' : 'run'} beside the kit's (${names.join(', ')}): ${advice([signal])}`,
    );
  }

  /**
   * For a signal that comes during the drain: the listener, there at the first signal, that has
   * removed itself since, which is taken to have sent it again once its own clean-up was done (each
   * such listener accounts for one signal). `undefined` when there is none: a signal of someone's.
   */
  resentBy(signal: NodeJS.Signals): Listener | undefined {
    if (this.#first === undefined || this.#first.signal !== signal) return undefined;
    const current = new Set<Listener>(process.listeners(signal) as Listener[]);
    for (const listener of this.#first.senders) {
      if (current.has(listener)) continue;
      this.#first.senders.delete(listener);
      return listener;
    }
    return undefined;
  }

  #others(signal: NodeJS.Signals): Listener[] {
    return (process.listeners(signal) as Listener[]).filter((listener) => listener !== this.#own);
  }
}

/** What to do about other listeners of `signals`, for a warning. */
function advice(signals: readonly NodeJS.Signals[]): string {
  const named = signals.join(' and ');
  return `each runs at the signal beside the kit's drain, and one that stops the server or exits cuts the drain short. Let the kit handle ${named} alone, with your own steps in runtime.onShutdown: Apollo Server (its listener is signalHandler): stopOnTerminationSignals: false, and runtime.onShutdown('apollo', () => server.stop()); @godaddy/terminus: give it signal: 'SIGUSR2'; NestJS's app.enableShutdownHooks(): pass the Nest app itself as bootstrapAppRunner's app, which takes its listeners off; close-with-grace: remove it`;
}
