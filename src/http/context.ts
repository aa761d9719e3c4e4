import { AsyncLocalStorage } from 'node:async_hooks';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { processGlobal } from '../internal/process-global.js';
import type { TraceHeader } from '../tracing/trace-header.js';

/** What the kit knows about the request being handled, available anywhere below its handler. */
export interface RequestContext {
  /** From a well-formed `X-Request-Id` header, else generated (a UUID). */
  readonly requestId: string;
  /** The raw `X-Amzn-Trace-Id` header as received, capped in length; `undefined` when absent. */
  readonly traceHeader: string | undefined;
  /**
   * The X-Ray trace id (`1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`) of the request: with tracing on, the
   * trace of the request's span (the caller's, or a new one); with tracing off, the trace of a
   * well-formed `X-Amzn-Trace-Id` or `traceparent` (as `tracing.propagators` reads them), else
   * `undefined`.
   */
  readonly traceId: string | undefined;
  /**
   * The route pattern (`/notes/:id`): the one the app named with {@link setRequestRoute}, else the
   * one the framework adapter found once it routed the request (Express, Fastify, Koa).
   */
  readonly route: string | undefined;
  /** `performance.now()` when the kit first saw the request. */
  readonly startedAt: number;
  /**
   * True when this request was picked for debug-level logging (`logging.debugSampleRate` or
   * `logging.debugRequests`).
   */
  readonly debugSampled: boolean;
  /** The fields {@link addRequestFields} added: on every line of the request and on its request line. */
  readonly fields: Readonly<Record<string, RequestFieldValue>>;
}

/** A value {@link addRequestFields} takes: a string, number, boolean or `null`. */
export type RequestFieldValue = string | number | boolean | null;

/**
 * The context as the kit's own parts see it: adapters fill in the route once they know it, and the
 * tracer sets the trace id of the request's span (a new trace too) before the handler runs.
 */
export interface MutableRequestContext extends RequestContext {
  route: string | undefined;
  traceId: string | undefined;
  /** The error a route threw, as the framework adapter reported it (logged with the request line). */
  error?: unknown;
  /** Replaced (never changed in place) when fields are added; shared and empty until then. */
  fields: Readonly<Record<string, RequestFieldValue>>;
  /** @internal The scope that made this context: its request-field limits and warning (request-fields.ts). */
  [scopeSlot]?: RequestFieldsPolicy | undefined;
  /** @internal The tracing backend's own state of this request (its span or segment): see tracingState. */
  [tracingSlot]?: TracingState | undefined;
  /** @internal The trace the request continues, parsed once (`undefined` when none, or malformed). */
  [traceParentSlot]?: TraceHeader | undefined;
  /** @internal The duration {@link requestDurationMs} measured, once the response finished. */
  [durationSlot]?: number | undefined;
  /** @internal True when `requestId` needs no escaping in a JSON string (see request-id.ts). */
  [plainIdSlot]?: boolean | undefined;
  /** @internal `req.url` as the request arrived (see {@link urlSlot}). */
  [urlSlot]?: string | undefined;
  /** @internal The W3C headers to carry on, as received (see {@link propagationSlot}). */
  [propagationSlot]?: ReceivedPropagation | undefined;
  /** @internal The `traceparent` received and not continued (see {@link setAsideTraceparentSlot}). */
  [setAsideTraceparentSlot]?: string | undefined;
  /** @internal The response of an HTTP/2 request (see {@link http2ResponseSlot}). */
  [http2ResponseSlot]?: ServerResponse | undefined;
  /** @internal `true` on a request `quietRequests` names (see {@link quietSlot}). */
  [quietSlot]?: true | undefined;
  /** @internal `true` when the server cut the response short (see {@link cutSlot}). */
  [cutSlot]?: true | undefined;
  /** @internal `true` once the app reported an error on the request (see {@link reportedSlot}). */
  [reportedSlot]?: true | undefined;
  /** @internal `true` on a health request served in the scope (see {@link uncountedSlot}). */
  [uncountedSlot]?: true | undefined;
  /** @internal The trace headers the kit sent on the request's calls (see {@link sentTraceHeadersSlot}). */
  [sentTraceHeadersSlot]?: SentTraceHeaders | undefined;
}

/**
 * The W3C headers a request brought that the trace carries on unchanged: `tracestate` when the
 * request continues its `traceparent`, `baggage` whatever it continues. Kept only when present and
 * within W3C's lengths, and only for the propagators in use.
 */
export interface ReceivedPropagation {
  readonly tracestate: string | undefined;
  readonly baggage: string | undefined;
}

/**
 * The fields of a request no field was added to: one frozen object for all of them, shared by the
 * ESM and CJS builds (see processGlobal), so either build recognises the other's contexts.
 */
export const noRequestFields: Readonly<Record<string, RequestFieldValue>> = processGlobal(
  'noRequestFields.v1',
  () => Object.freeze({}),
);

/** Where a context keeps the {@link RequestFieldsPolicy} of the scope that made it (shared by both builds). */
export const scopeSlot: unique symbol = Symbol.for('apprunner-kit.requestFieldsPolicy');

/**
 * Where `addRequestFields` and `setRequestRoute` say what they refused: the scope that made the
 * request's context.
 */
export interface RequestFieldsPolicy {
  /** Called each time fields are dropped, with the names dropped then; the scope words it once per request. */
  fieldsDropped(context: MutableRequestContext, dropped: readonly string[]): void;
  /**
   * Called each time a route is refused, with the value given and why; the scope words it once per
   * request.
   */
  routeRefused(context: MutableRequestContext, route: unknown, reason: string): void;
}

/**
 * Where {@link requestDurationMs} keeps the measured duration (present from the request's start):
 * set once the response has ended, which held log lines read too (shared by both builds).
 */
export const durationSlot: unique symbol = Symbol.for('apprunner-kit.durationMs');

/**
 * Milliseconds from the kit first seeing the request to the first call (at the response's end), to
 * the microsecond: measured once, so the request line and the metrics show the same number.
 */
export function requestDurationMs(context: MutableRequestContext): number {
  context[durationSlot] ??= Math.round((performance.now() - context.startedAt) * 1000) / 1000;
  return context[durationSlot];
}

/**
 * Where a request's parent, parsed once, is kept for the tracing hooks (not in the public shape): from
 * its `X-Amzn-Trace-Id` or its `traceparent`, whichever the propagators say it continues.
 */
export const traceParentSlot: unique symbol = Symbol.for('apprunner-kit.traceParent');

/**
 * Where a context says its `requestId` goes into a JSON string as it is: the request line then
 * skips the check (on a new UUID, a string built in parts, the check's first read costs more than
 * the rest of the line's checks together).
 */
export const plainIdSlot: unique symbol = Symbol('apprunner-kit.plainRequestId');

/**
 * Where a context keeps `req.url` as the request arrived: a router may rewrite `req.url` while it
 * handles the request (Express strips the path a router is mounted on, and restores it only when the
 * request leaves that router), so the request line reads the path from here.
 */
export const urlSlot: unique symbol = Symbol('apprunner-kit.url');

/**
 * Where a context says its request is quiet (`quietRequests`): no request line unless it fails, no
 * span, no request metrics. Set only on such a request (shared by both builds).
 */
export const quietSlot: unique symbol = Symbol.for('apprunner-kit.quiet');

/**
 * Where a context says the server cut its response short (a route's error after the response began,
 * which leaves nothing to do but close the connection): the request failed, the client did not go
 * away. Set only then (shared by both builds).
 */
export const cutSlot: unique symbol = Symbol.for('apprunner-kit.cut');

/**
 * The server cut the response short after it began: an adapter said so ({@link cutSlot}), or the
 * response was destroyed with an error (`res.destroy(error)`, a stream body that broke: what Koa's
 * and Fastify's stream bodies do), where a client that went away leaves it without one.
 */
export function cutByServer(context: MutableRequestContext, res: ServerResponse): boolean {
  return context[cutSlot] === true || destroyedWithError(res);
}

/**
 * The response did not go out whole: not ended, or not flushed. Both are read: an HTTP/2 response
 * whose stream the client cancelled says `writableFinished` (its stream closed) though it was never
 * ended, and was logged as a 200 that completed.
 */
export function responseUnfinished(res: ServerResponse): boolean {
  return !res.writableFinished || !res.writableEnded;
}

/**
 * The response was destroyed with an error of the server's before it finished; not Node's own
 * `aborted` reset, which it gives a response queued behind another on a connection the client closed.
 */
export function destroyedWithError(res: ServerResponse): boolean {
  const error = res.errored as (Error & { code?: unknown }) | null;
  return (
    !res.writableFinished && error != null && !(error.code === 'ECONNRESET' && error.message === 'aborted')
  );
}

/**
 * Where a context says the app reported an error on its request (`reportRequestError`), as opposed to
 * an adapter's route error: one thrown after the response ended whole leaves it a completed request.
 * Set only then (shared by both builds).
 */
export const reportedSlot: unique symbol = Symbol.for('apprunner-kit.errorReported');

/**
 * The app reported an error (`reportRequestError`) on a request whose status says it went well
 * (below 400): a GraphQL server answers 200 with `errors` when a resolver throws. The request failed
 * on the server's side all the same: its line and span say so, and its held lines are written. The
 * metrics, counted by status, do not count it in `5xxStatusResponses`.
 */
export function failedDespiteStatus(context: MutableRequestContext, res: ServerResponse): boolean {
  return context[reportedSlot] === true && context.error !== undefined && res.statusCode < 400;
}

/** The request failed on the server's side: a 5xx, or a response the server cut short after it began. */
export function failedOnServer(context: MutableRequestContext, res: ServerResponse): boolean {
  return res.statusCode >= 500 || cutByServer(context, res);
}

/**
 * Where a context says its request is not counted in flight nor served: a health request, which
 * enters the scope only to be logged (`logging.healthRequests`). Set only then.
 */
export const uncountedSlot: unique symbol = Symbol('apprunner-kit.uncounted');

/** Where a context keeps the {@link ReceivedPropagation} of its request (shared by both builds). */
export const propagationSlot: unique symbol = Symbol.for('apprunner-kit.propagation');

/**
 * Where a context keeps the raw `traceparent` its request came with when the request continues
 * another trace header (an `X-Amzn-Trace-Id` naming another parent, read after it or alone): a
 * reverse proxy that copies it onto its call is then still recognised (see `copiedFromRequest`). The
 * raw `X-Amzn-Trace-Id` is kept whatever is continued (`traceHeader`), and a continued `traceparent`
 * is the trace the request continues. Set only then (shared by both builds).
 */
export const setAsideTraceparentSlot: unique symbol = Symbol.for('apprunner-kit.setAsideTraceparent');

/**
 * Where a context keeps the response of its request when it came over HTTP/2 (the compat API's,
 * which stands in for node:http's), which no socket names as HTTP/1's connections name theirs: the
 * shutdown finds there the request that awaits it. Set only on such a request (shared by both builds).
 */
export const http2ResponseSlot: unique symbol = Symbol.for('apprunner-kit.http2Response');

/**
 * The latest trace header values the kit put on outgoing calls, so that a copy of one onto a later
 * call (superagent follows a redirect with the previous request's headers) is known for the kit's
 * own: the values since `latest` was begun, and before them, those of the set it replaced.
 */
export interface SentTraceHeaders {
  latest: Set<string>;
  older: Set<string> | undefined;
}

/**
 * Where a context keeps the {@link SentTraceHeaders} of its request's calls. Set only once the
 * request makes a traced call (shared by both builds).
 */
export const sentTraceHeadersSlot: unique symbol = Symbol.for('apprunner-kit.sentTraceHeaders');

/** Where a tracing backend keeps its state of a request, on the request context (no side table). */
export const tracingSlot: unique symbol = Symbol.for('apprunner-kit.tracingSlot');

/** A backend's state of a request, with the backend it belongs to. */
interface TracingState {
  readonly owner: object;
  readonly state: unknown;
  readonly spanIds: SpanIdReader | undefined;
}

/** How the log lines of a traced request learn the id of their span. */
export interface SpanIdReader {
  /**
   * The id of the span current where the caller runs inside `context` (a child span's inside
   * `tracer.span`, else the request's), when the trace is sampled; else `undefined`.
   */
  current(context: RequestContext): string | undefined;
  /** The id of the request's own span, when the trace is sampled. */
  ofRequest(context: RequestContext): string | undefined;
}

/**
 * Keeps `state` on `context` for `owner` (the backend whose server hooks started the request). Only
 * one backend starts a request; another one in the same process (a second runtime) reads nothing.
 * `spanIds` tells the log lines of the request which span they belong to.
 */
export function setTracingState(
  context: RequestContext,
  owner: object,
  state: unknown,
  spanIds?: SpanIdReader,
): void {
  (context as MutableRequestContext)[tracingSlot] = { owner, state, spanIds };
}

/** The id of the span current here within `context` (see {@link SpanIdReader.current}). */
export function currentSpanId(context: RequestContext): string | undefined {
  const slot = (context as MutableRequestContext)[tracingSlot];
  return slot?.spanIds === undefined ? undefined : slot.spanIds.current(context);
}

/** The id of the span of `context`'s request (see {@link SpanIdReader.ofRequest}). */
export function requestSpanId(context: RequestContext): string | undefined {
  const slot = (context as MutableRequestContext)[tracingSlot];
  return slot?.spanIds === undefined ? undefined : slot.spanIds.ofRequest(context);
}

/** What `owner` keeps on `context` ({@link setTracingState}); `undefined` for any other owner. */
export function tracingState(context: RequestContext, owner: object): unknown {
  const slot = (context as MutableRequestContext)[tracingSlot];
  return slot !== undefined && slot.owner === owner ? slot.state : undefined;
}

const frameMark: unique symbol = Symbol.for('apprunner-kit.contextFrame');

/** A scope entered inside a request (or outside any): the request, and one part's value for it. */
interface ContextFrame {
  readonly [frameMark]: true;
  readonly request: MutableRequestContext | undefined;
  readonly owner: object;
  readonly value: unknown;
  /** What was current when the frame was entered: the request, or another frame. */
  readonly outer: Store | undefined;
}

type Store = MutableRequestContext | ContextFrame;

function isFrame(store: Store): store is ContextFrame {
  return (store as Partial<ContextFrame>)[frameMark] === true;
}

// One store per process, shared by the ESM and CJS builds and every entry point (see processGlobal).
// It holds the request context, or a frame that a tracing backend entered inside it: one
// AsyncLocalStorage for everything, because on Node 20 every storage adds work to every async
// resource the process creates (measured: a second one cost ~2 µs per traced request).
const storage = processGlobal('requestContext.v2', () => new AsyncLocalStorage<Store>());

function requestOf(store: Store | undefined): MutableRequestContext | undefined {
  return store === undefined || !isFrame(store) ? store : store.request;
}

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
  return requestOf(storage.getStore());
}

/** The context of the request being handled, as the kit's own parts may change it. */
export function getMutableRequestContext(): MutableRequestContext | undefined {
  return requestOf(storage.getStore());
}

/**
 * Runs `fn` in a nested scope that carries `value` for `owner` (a tracing backend's active span),
 * inside the current request if any: what `fn` starts, sync or async, sees it through
 * {@link scopedValue}, and sees the same request context.
 */
export function runInScope<T>(owner: object, value: unknown, fn: () => T): T {
  const outer = storage.getStore();
  const frame: ContextFrame = { [frameMark]: true, request: requestOf(outer), owner, value, outer };
  return storage.run(frame, fn);
}

/**
 * The value of the innermost {@link runInScope} of `owner` around the caller, past the frames of other
 * owners; `undefined` when none.
 */
export function scopedValue(owner: object): unknown {
  let store = storage.getStore();
  while (store !== undefined && isFrame(store)) {
    if (store.owner === owner) return store.value;
    store = store.outer;
  }
  return undefined;
}

/**
 * Runs `fn` outside any request: what it starts, sync or async, sees no request context (the shutdown,
 * which an uncaught exception in a request or a route calling `runtime.shutdown()` may start).
 */
export function runOutsideRequestContext<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** Runs `fn` with `context` as the request context of everything it starts, sync or async. */
export function runWithRequestContext<T>(context: MutableRequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

type Listener = ((...args: unknown[]) => unknown) & { listener?: unknown };
type AddListener = (this: IncomingMessage, event: string | symbol, listener: Listener) => IncomingMessage;

/** Node's own listener of every request's 'end' (`clearIncoming`): no code of the app's. */
const nodesOwnListener = 'clearIncoming';

/**
 * Makes a listener added to an `http.IncomingMessage` within a request run in that request's context
 * (and the span then current): Node emits a request's 'data', 'end' and 'close' from the connection's
 * own callbacks, outside the request, so that a body read with `req.on('data')` and `req.on('end')`
 * lost its request id, its trace and the request id forwarded on the calls made there; and a client
 * response read on a pooled connection ran in the context of the request that opened it. Installed
 * once per process on `http.IncomingMessage.prototype` (`on`, `addListener`, `prependListener`, which
 * `once` and `prependOnceListener` call): such a listener is bound as it is added (the bound
 * function's `listener` is the one given, so that `removeListener` finds it). A listener added
 * outside any request, and Node's own, costs a lookup of the context; a request adds nothing.
 */
export function installRequestEventsContext(): void {
  processGlobal('requestEventsContext.v1', () => {
    const prototype = IncomingMessage.prototype as unknown as Record<string, AddListener>;
    for (const name of ['on', 'addListener', 'prependListener']) {
      const add = prototype[name]!;
      prototype[name] = function addInItsRequest(event, listener) {
        const store = storage.getStore();
        if (
          store === undefined ||
          requestOf(store) === undefined ||
          typeof listener !== 'function' ||
          listener.name === nodesOwnListener
        )
          return add.call(this, event, listener);
        const bound: Listener = function runInItsRequest(this: unknown, ...args: unknown[]) {
          return storage.run(store, Reflect.apply, listener, this, args);
        };
        bound.listener = listener;
        return add.call(this, event, bound);
      };
    }
    return true;
  });
}
