import type { Logger } from 'pino';

/**
 * Logs a failure of the tracing instrumentation once per place: a bug there must neither break the
 * request it observes nor flood the log.
 */
export class InstrumentationFailures {
  readonly #logger: Logger;
  readonly #seen = new Set<string>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Logs `error` as a warning, the first time `where` fails. */
  report(where: string, error: unknown): void {
    if (this.#seen.has(where)) return;
    this.#seen.add(where);
    this.#logger.warn(
      { err: error, tracing: { where } },
      `tracing: ${where} failed (logged once); the request goes on`,
    );
  }
}
