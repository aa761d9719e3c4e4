import { AsyncLocalStorage } from 'node:async_hooks';
import { processGlobal } from '../internal/process-global.js';

/** What the kit knows about the request being handled, available anywhere below its handler. */
export interface RequestContext {
  /** From a well-formed `X-Request-Id` header, else generated (a UUID). */
  readonly requestId: string;
  /** The raw `X-Amzn-Trace-Id` header as received, capped in length; `undefined` when absent. */
  readonly traceHeader: string | undefined;
  /**
   * The X-Ray trace id (`1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`) of the request: with tracing on, the
   * trace of the request's span (the caller's, or a new one); with tracing off, the `Root` of a
   * well-formed `X-Amzn-Trace-Id`, else `undefined`.
   */
  readonly traceId: string | undefined;
  /** The route pattern (`/notes/:id`) when the framework adapter knows it. */
  readonly route: string | undefined;
  /** `performance.now()` when the kit first saw the request. */
  readonly startedAt: number;
  /** True when this request was picked for debug-level logging (`logging.debugSampleRate`). */
  readonly debugSampled: boolean;
}

/**
 * The context as the kit's own parts see it: adapters fill in the route once they know it, and the
 * tracer sets the trace id of the request's span (a new trace too) before the handler runs.
 */
export interface MutableRequestContext extends RequestContext {
  route: string | undefined;
  traceId: string | undefined;
  /** The error a route threw, as the framework adapter reported it (logged with the request line). */
  error?: unknown;
}

// One store per process, shared by the ESM and CJS builds and every entry point (see processGlobal).
const storage = processGlobal('requestContext.v1', () => new AsyncLocalStorage<MutableRequestContext>());

/**
 * The context of the request being handled, or `undefined` outside any request.
 *
 * @example
 * ```ts
 * import { getRequestContext } from 'apprunner-kit';
 * const requestId = getRequestContext()?.requestId;
 * ```
 */
export function getRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** The context of the request being handled, as the kit's own parts may change it. */
export function getMutableRequestContext(): MutableRequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `context` as the request context of everything it starts, sync or async. */
export function runWithRequestContext<T>(context: MutableRequestContext, fn: () => T): T {
  return storage.run(context, fn);
}
