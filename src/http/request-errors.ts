import { processGlobal } from '../internal/process-global.js';

/**
 * The running kit's way of recording a route's error on the current request (its `reportError`), for
 * code outside the adapters that learns of the error only by a log call: Nest's `ExceptionsHandler`
 * answers a route's error itself, and says so only through its logger (see nest-logger.ts). Keyed on
 * the process, so that a logger of the other build (ESM or CJS) reaches it too.
 */
const reporter = processGlobal('requestErrorReporter.v1', () => ({
  report: undefined as ((error: unknown) => void) | undefined,
}));

/**
 * Makes `report` the reporter until the returned function is called (once the runtime stopped); a
 * reporter set since by another runtime is left in place.
 */
export function setRequestErrorReporter(report: (error: unknown) => void): () => void {
  reporter.report = report;
  return () => {
    if (reporter.report === report) reporter.report = undefined;
  };
}

/**
 * Records `error` on the current request through the running kit: it is then logged with the request
 * line (or on a line of its own when that is off) and marks the trace as a fault. False when no kit
 * runs: the caller logs it itself.
 */
export function reportRequestError(error: unknown): boolean {
  const report = reporter.report;
  if (report === undefined) return false;
  report(error);
  return true;
}
