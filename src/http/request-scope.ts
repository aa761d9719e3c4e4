import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type RequestContext, runWithRequestContext } from './context.js';
import { requestIdFrom } from './request-id.js';

/** Longest `X-Amzn-Trace-Id` kept in the context; the X-Ray header is far shorter. */
const maxTraceHeaderLength = 512;

/** Called when a request enters the scope, before the app's handler. */
export type RequestStartHook = (context: RequestContext, req: IncomingMessage, res: ServerResponse) => void;
/** Called once when the response has finished or the connection was closed before it did. */
export type RequestFinishHook = (context: RequestContext, req: IncomingMessage, res: ServerResponse) => void;

/**
 * The framework-neutral request scope: gives each request its context, counts requests in flight,
 * and calls the start and finish hooks that other parts (request log line, tracing, shutdown)
 * register. Adapters translate their framework's request lifecycle into {@link RequestScope.run}.
 */
export class RequestScope {
  #inFlight = 0;
  #served = 0;
  readonly #startHooks = new HookList<RequestStartHook>();
  readonly #finishHooks = new HookList<RequestFinishHook>();
  #idleWaiters: (() => void)[] = [];

  /** Requests that entered the scope and whose response has not finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests that entered the scope and finished. */
  get served(): number {
    return this.#served;
  }

  /** Adds a start hook; returns the function that removes it. */
  onStart(hook: RequestStartHook): () => void {
    return this.#startHooks.add(hook);
  }

  /** Adds a finish hook; returns the function that removes it. */
  onFinish(hook: RequestFinishHook): () => void {
    return this.#finishHooks.add(hook);
  }

  /** Resolves when no request is in flight (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Runs `handler` inside a new request context, counted in flight until the response ends. */
  run<T>(req: IncomingMessage, res: ServerResponse, handler: () => T): T {
    const traceHeader = req.headers['x-amzn-trace-id'];
    const context: RequestContext = {
      requestId: requestIdFrom(req.headers['x-request-id']),
      traceHeader:
        typeof traceHeader === 'string' && traceHeader.length <= maxTraceHeaderLength
          ? traceHeader
          : undefined,
      startedAt: performance.now(),
    };
    this.#inFlight++;
    res.once('close', () => this.#finish(context, req, res));
    const startHooks = this.#startHooks.items;
    for (let i = 0; i < startHooks.length; i++) startHooks[i]!(context, req, res);
    return runWithRequestContext(context, handler);
  }

  #finish(context: RequestContext, req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight--;
    this.#served++;
    const finishHooks = this.#finishHooks.items;
    for (let i = 0; i < finishHooks.length; i++) finishHooks[i]!(context, req, res);
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

// Hook lists are replaced on change (copy-on-write), so the per-request loop needs no guard against a
// hook removing itself while the list is walked.
class HookList<H> {
  items: readonly H[] = [];

  add(hook: H): () => void {
    this.items = [...this.items, hook];
    return () => {
      this.items = this.items.filter((h) => h !== hook);
    };
  }
}
