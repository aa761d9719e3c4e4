import { AsyncLocalStorage } from 'node:async_hooks';
import { processGlobal } from '../internal/process-global.js';

/** What the kit knows about the request being handled, available anywhere below its handler. */
export interface RequestContext {
  /** From a well-formed `X-Request-Id` header, else generated (a UUID). */
  readonly requestId: string;
  /** The raw `X-Amzn-Trace-Id` header as received, capped in length; `undefined` when absent. */
  readonly traceHeader: string | undefined;
  /** `performance.now()` when the kit first saw the request. */
  readonly startedAt: number;
}

// One store per process, shared by the ESM and CJS builds and every entry point (see processGlobal).
const storage = processGlobal('requestContext.v1', () => new AsyncLocalStorage<RequestContext>());

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

/** Runs `fn` with `context` as the request context of everything it starts, sync or async. */
export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}
