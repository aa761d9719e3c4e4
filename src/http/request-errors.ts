import { processGlobal } from '../internal/process-global.js';
import { getMutableRequestContext, reportedSlot } from './context.js';

/**
 * The running kit's way of recording a route's error on the current request (its `reportError`), for
 * code outside the adapters that learns of the error only from the framework: an app's error hook
 * ({@link reportRequestError}), or a log call (Nest's `ExceptionsHandler` answers a route's error
 * itself, and says so only through its logger: see nest-logger.ts). Keyed on the process, so that
 * the other build (ESM or CJS) reaches it too.
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
 * Records `error` as the error of the request being handled, as an adapter records the error an
 * Express, Fastify or Koa route throws: the request line carries it as `err` (at the level of the
 * request's status: `error` for a 5xx), and the request's span records it as its exception event
 * (X-Ray's `cause`); a 5xx marks the span an error (X-Ray: a fault). For a framework that answers a
 * route's error itself, with a 500, and tells the app only through a hook (Hono's `app.onError`,
 * Next.js's `onRequestError`, h3's `onError`).
 *
 * Reported on a response whose status is below 400 (a GraphQL server answers 200 with `errors` when a
 * resolver throws: Apollo Server's `didEncounterErrors`, GraphQL Yoga's `onExecutionResult`), the
 * request failed: its line says `request failed` at the `serverError` level of
 * `logging.requestLevels`, its span's status is an error (X-Ray: a fault), and the lines it held
 * (`logging.buffer`) are written. The metrics, counted by status, leave it out of
 * `5xxStatusResponses`. On a 4xx the error is the client's: the line keeps the `clientError` level.
 *
 * Reported once the request's line was written (after its response ended), the error goes out on a
 * `request error` line of its own, with the request's id; so it does when `logging.requests` is off.
 * Of two errors reported on one request, the line and span carry the later one.
 *
 * @param error What the route threw: an `Error` (its stack and `cause` are logged), or any other
 * value.
 * @returns `true` when recorded; `false` outside any request, with no kit running
 * (`bootstrapAppRunner` not called, or its runtime stopped), or for `undefined` or `null`: the
 * caller logs it itself then.
 *
 * @example Hono through getRequestListener, its error hook
 * ```ts
 * import { getRequestListener } from '@hono/node-server';
 * import { Hono } from 'hono';
 * import { bootstrapAppRunner, reportRequestError } from 'apprunner-kit';
 *
 * const app = new Hono();
 * app.onError((err, c) => {
 *   reportRequestError(err);
 *   return c.text('Internal Server Error', 500);
 * });
 * await bootstrapAppRunner({ app: getRequestListener(app.fetch) });
 * ```
 */
export function reportRequestError(error: unknown): boolean {
  const report = reporter.report;
  const context = getMutableRequestContext();
  if (report === undefined || error === undefined || error === null || context === undefined) return false;
  report(error);
  // The app's word that the request failed, whatever its status (see failedDespiteStatus).
  context[reportedSlot] = true;
  return true;
}
