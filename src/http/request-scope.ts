import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { maxTraceHeaderLength, parseTraceHeader } from '../tracing/trace-header.js';
import {
  durationSlot,
  type MutableRequestContext,
  noRequestFields,
  type RequestFieldsPolicy,
  runWithRequestContext,
  scopeSlot,
  traceParentSlot,
  tracingSlot,
} from './context.js';
import { isValidRequestId, requestIdFrom } from './request-id.js';

/** Called when a request enters the scope, before the app's handler. */
export type RequestStartHook = (
  context: MutableRequestContext,
  req: IncomingMessage,
  res: ServerResponse,
) => void;
/** Called once when the response has finished or the connection was closed before it did. */
export type RequestFinishHook = (
  context: MutableRequestContext,
  req: IncomingMessage,
  res: ServerResponse,
) => void;

/** Reads the framework's route pattern of a request (`/notes/:id`), once the framework routed it. */
export type RouteResolver = (req: IncomingMessage) => string | undefined;

/** Options of a {@link RequestScope}. */
export interface RequestScopeOptions {
  /** Share of requests, 0 to 1, whose context is marked for debug-level logging. */
  readonly debugSampleRate?: number;
  /**
   * The request id header, lower case: adopted from the request, and set on the response. `false`:
   * adopted from `x-request-id`, and set on nothing.
   * @default 'x-request-id'
   */
  readonly requestIdHeader?: string | false;
  /** Told once per request, the first time `addRequestFields` dropped fields, with their names. */
  readonly fieldsDropped?: RequestFieldsPolicy['fieldsDropped'];
}

const scopeKey = Symbol('apprunner-kit.scope');

type ScopedResponse = ServerResponse & {
  [scopeKey]?: { scope: RequestScope; context: MutableRequestContext; req: IncomingMessage } | undefined;
};

function onResponseClose(this: ScopedResponse): void {
  const entry = this[scopeKey];
  if (entry !== undefined) {
    this[scopeKey] = undefined;
    entry.scope.finish(entry.context, entry.req, this);
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

/**
 * The framework-neutral request scope: gives each request its context, counts requests in flight,
 * and calls the start and finish hooks that other parts (request log line, tracing, metrics)
 * register. Adapters translate their framework's request lifecycle into {@link RequestScope.run}.
 */
export class RequestScope {
  readonly #debugSampleRate: number;
  /** The header the id is adopted from (lower case). */
  readonly #idHeader: string;
  /** The header the id is echoed in, when echo is on. */
  readonly #echoHeader: string | undefined;
  readonly #fieldsPolicy: RequestFieldsPolicy | undefined = undefined;
  readonly #startHooks = new HookList<RequestStartHook>();
  readonly #finishHooks = new HookList<RequestFinishHook>();
  #inFlight = 0;
  #served = 0;
  /** Set by the framework adapter: the route pattern of a finished request. */
  routeOf: RouteResolver | undefined;

  constructor(options: RequestScopeOptions = {}) {
    this.#debugSampleRate = options.debugSampleRate ?? 0;
    const header = options.requestIdHeader ?? 'x-request-id';
    this.#idHeader = header === false ? 'x-request-id' : header.toLowerCase();
    this.#echoHeader = header === false ? undefined : this.#idHeader;
    const { fieldsDropped } = options;
    if (fieldsDropped !== undefined) {
      const told = new WeakSet<MutableRequestContext>();
      this.#fieldsPolicy = {
        fieldsDropped(context, dropped) {
          if (told.has(context)) return;
          told.add(context);
          fieldsDropped(context, dropped);
        },
      };
    }
  }

  /** The header a request id is echoed in and forwarded with (lower case); `undefined` when off. */
  get requestIdHeader(): string | undefined {
    return this.#echoHeader;
  }

  /** The request id `req` brought, when well formed; `undefined` when it brought none or a bad one. */
  adoptedRequestIdOf(req: IncomingMessage): string | undefined {
    const raw = req.rawHeaders;
    const name = this.#idHeader;
    for (let i = 0; i < raw.length; i += 2) {
      const header = raw[i]!;
      if (header.length === name.length && header.toLowerCase() === name) {
        const id = raw[i + 1]!;
        return isValidRequestId(id) ? id : undefined;
      }
    }
    return undefined;
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
    // From rawHeaders, not req.headers: Node builds the headers object lazily, on first access, and
    // an app that never reads it should not pay for it here.
    const raw = req.rawHeaders;
    const idHeader = this.#idHeader;
    let requestIdHeader: string | undefined;
    let rawTrace: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === idHeader.length && name.toLowerCase() === idHeader) requestIdHeader ??= raw[i + 1];
      else if (name.length === 15 && name.toLowerCase() === 'x-amzn-trace-id') rawTrace ??= raw[i + 1];
    }
    const traceHeader =
      rawTrace !== undefined && rawTrace.length <= maxTraceHeaderLength ? rawTrace : undefined;
    const traceParent = traceHeader === undefined ? undefined : parseTraceHeader(traceHeader);
    const context: MutableRequestContext = {
      requestId: requestIdFrom(requestIdHeader),
      traceHeader,
      traceId: traceParent?.root,
      route: undefined,
      startedAt: performance.now(),
      debugSampled: this.#debugSampleRate > 0 && Math.random() < this.#debugSampleRate,
      fields: noRequestFields,
      [scopeSlot]: this.#fieldsPolicy,
      [tracingSlot]: undefined, // present from the start: every context has one shape
      [traceParentSlot]: traceParent,
      [durationSlot]: undefined,
    };
    if (this.#echoHeader !== undefined && !res.headersSent)
      res.setHeader(this.#echoHeader, context.requestId);
    this.#inFlight++;
    // One shared listener, the context on the response: no closure allocated per request.
    (res as ScopedResponse)[scopeKey] = { scope: this, context, req };
    res.on('close', onResponseClose);
    const startHooks = this.#startHooks.items;
    for (let i = 0; i < startHooks.length; i++) startHooks[i]!(context, req, res);
    return runWithRequestContext(context, handler);
  }

  /** @internal Called by the shared 'close' listener. */
  finish(context: MutableRequestContext, req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight--;
    this.#served++;
    if (context.route === undefined && this.routeOf !== undefined) context.route = this.routeOf(req);
    const finishHooks = this.#finishHooks.items;
    for (let i = 0; i < finishHooks.length; i++) finishHooks[i]!(context, req, res);
  }
}
