import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { maxTraceHeaderLength, parseTraceHeader } from '../tracing/trace-header.js';
import { type MutableRequestContext, type RequestContext, runWithRequestContext } from './context.js';
import { requestIdFrom } from './request-id.js';

/** Called when a request enters the scope, before the app's handler. */
export type RequestStartHook = (
  context: MutableRequestContext,
  req: IncomingMessage,
  res: ServerResponse,
) => void;
/** Called once when the response has finished or the connection was closed before it did. */
export type RequestFinishHook = (context: RequestContext, req: IncomingMessage, res: ServerResponse) => void;

/** Options of a {@link RequestScope}. */
export interface RequestScopeOptions {
  /** Share of requests, 0 to 1, whose context is marked for debug-level logging. */
  readonly debugSampleRate?: number;
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

/**
 * The framework-neutral request scope: gives each request its context, counts requests in flight,
 * and calls the start and finish hooks that other parts (request log line, tracing, metrics)
 * register. Adapters translate their framework's request lifecycle into {@link RequestScope.run}.
 */
export class RequestScope {
  readonly #debugSampleRate: number;
  readonly #startHooks = new HookList<RequestStartHook>();
  readonly #finishHooks = new HookList<RequestFinishHook>();
  #inFlight = 0;
  #served = 0;

  constructor(options: RequestScopeOptions = {}) {
    this.#debugSampleRate = options.debugSampleRate ?? 0;
  }

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

  /** Runs `handler` inside a new request context, counted in flight until the response ends. */
  run<T>(req: IncomingMessage, res: ServerResponse, handler: () => T): T {
    const rawTrace = req.headers['x-amzn-trace-id'];
    const traceHeader =
      typeof rawTrace === 'string' && rawTrace.length <= maxTraceHeaderLength ? rawTrace : undefined;
    const context: MutableRequestContext = {
      requestId: requestIdFrom(req.headers['x-request-id']),
      traceHeader,
      traceId: traceHeader === undefined ? undefined : parseTraceHeader(traceHeader)?.root,
      route: undefined,
      startedAt: performance.now(),
      debugSampled: this.#debugSampleRate > 0 && Math.random() < this.#debugSampleRate,
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
  }
}
