import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { defaultPropagators, type TracePropagator } from '../config/tracing.js';
import {
  boundedBaggage,
  boundedTraceState,
  maxTraceHeaderLength,
  parseTraceHeader,
  parseTraceparent,
  type TraceHeader,
} from '../tracing/trace-header.js';
import {
  durationSlot,
  http2ResponseSlot,
  installRequestEventsContext,
  type MutableRequestContext,
  noRequestFields,
  plainIdSlot,
  propagationSlot,
  quietSlot,
  type ReceivedPropagation,
  type RequestFieldsPolicy,
  type RequestFieldValue,
  requestDurationMs,
  runWithRequestContext,
  type SentTraceHeaders,
  scopeSlot,
  sentTraceHeadersSlot,
  setAsideTraceparentSlot,
  traceParentSlot,
  tracingSlot,
  uncountedSlot,
  urlSlot,
} from './context.js';
import { isHeaderName } from './raw-headers.js';
import { isPlainRequestId, isValidRequestId } from './request-id.js';
import type { RequestPredicate } from './request-predicate.js';

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
  /** Requests marked for debug-level logging too, asked as each arrives (guarded: never throws). */
  readonly debugRequests?: RequestPredicate | undefined;
  /**
   * The request id header, lower case: adopted from the request, and set on the response. `false`:
   * adopted from `x-request-id`, and set on nothing.
   * @default 'x-request-id'
   */
  readonly requestIdHeader?: string | false;
  /** Told once per request, the first time `addRequestFields` dropped fields, with their names. */
  readonly fieldsDropped?: RequestFieldsPolicy['fieldsDropped'];
  /** Told once per request, the first time `setRequestRoute` refused a route, with it and why. */
  readonly routeRefused?: RequestFieldsPolicy['routeRefused'];
  /**
   * The trace headers read, in order (see `tracing.propagators`): a request carrying both an
   * `X-Amzn-Trace-Id` and a `traceparent` that each name a parent continues the one listed last.
   * @default ['xray', 'tracecontext', 'baggage']
   */
  readonly propagators?: readonly TracePropagator[];
  /** Requests kept quiet (`quietRequests`): marked on their context for the request line, tracing and metrics. */
  readonly quiet?: RequestPredicate | undefined;
}

/**
 * A request's context as the scope makes it. A class rather than an object literal: every context has
 * one shape from its construction (the symbol-keyed slots too, which a literal defines one by one at
 * run time), and the properties the kit sets later are already there.
 */
class ScopeContext implements MutableRequestContext {
  declare readonly requestId: string;
  declare readonly traceHeader: string | undefined;
  declare traceId: string | undefined;
  declare route: string | undefined;
  declare readonly startedAt: number;
  declare readonly debugSampled: boolean;
  declare fields: Readonly<Record<string, RequestFieldValue>>;
  declare [scopeSlot]: RequestFieldsPolicy | undefined;
  declare [tracingSlot]: MutableRequestContext[typeof tracingSlot];
  declare [traceParentSlot]: TraceHeader | undefined;
  declare [durationSlot]: number | undefined;
  declare [plainIdSlot]: boolean;
  declare [urlSlot]: string | undefined;
  /**
   * Set only on a request that brought W3C headers to carry on. Set in the constructor, one more
   * property on every context cost Express about 14,000 instructions per request (callgrind): it
   * no longer fit in the object, so every context grew a property store.
   */
  declare [propagationSlot]?: ReceivedPropagation | undefined;
  /** Set only on a request that brought a `traceparent` it does not continue, for the same reason. */
  declare [setAsideTraceparentSlot]?: string | undefined;
  /** Set only on an HTTP/2 request, for the same reason. */
  declare [http2ResponseSlot]?: ServerResponse | undefined;
  /** Set only on a quiet request, for the same reason. */
  declare [quietSlot]?: true | undefined;
  /** Set only on a health request logged in the scope, for the same reason. */
  declare [uncountedSlot]?: true | undefined;
  /** Set only on a request that made a traced call, for the same reason. */
  declare [sentTraceHeadersSlot]?: SentTraceHeaders | undefined;

  constructor(
    url: string | undefined,
    requestId: string,
    plainId: boolean,
    traceHeader: string | undefined,
    traceParent: TraceHeader | undefined,
    debugSampled: boolean,
    policy: RequestFieldsPolicy | undefined,
  ) {
    this.requestId = requestId;
    this.traceHeader = traceHeader;
    this.traceId = traceParent?.root;
    this.route = undefined;
    this.startedAt = performance.now();
    this.debugSampled = debugSampled;
    this.fields = noRequestFields;
    this[scopeSlot] = policy;
    this[tracingSlot] = undefined;
    this[traceParentSlot] = traceParent;
    this[durationSlot] = undefined;
    this[plainIdSlot] = plainId;
    this[urlSlot] = url;
  }
}

const scopeKey = Symbol('apprunner-kit.scope');

/** The context of the request `res` answers, when the kit's scope handles it. */
export function contextOfResponse(res: ServerResponse): MutableRequestContext | undefined {
  return (res as ScopedResponse)[scopeKey]?.context;
}

type ScopedResponse = ServerResponse & {
  [scopeKey]?: { scope: RequestScope; context: MutableRequestContext; req: IncomingMessage } | undefined;
};

/** Whether the headers `writeHead` was given (an object, or an array flat or of pairs) name `name`. */
function namesHeader(headers: object, name: string): boolean {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i++) {
      const item: unknown = headers[i];
      if (
        Array.isArray(item)
          ? isHeaderName(String(item[0]), name)
          : i % 2 === 0 && isHeaderName(String(item), name)
      )
        return true;
    }
    return false;
  }
  // Own keys only: Node writes no inherited one.
  for (const key in headers) if (Object.hasOwn(headers, key) && isHeaderName(key, name)) return true;
  return false;
}

/**
 * The response's `writeHead` while its request id is to be echoed: adds the id header to what the app
 * writes, unless the app set that header itself. Put on each response as an own property (one shared
 * function) rather than a `setHeader` when the request starts: Node writes the headers an app passes
 * to `writeHead` as they are only while no header was set with `setHeader`; after one, it validates
 * and stores each of them again (measured on a plain listener: about 9,000 instructions and 3 µs per
 * request). A wrapper of `writeHead` put on later (on-headers, in the app's middleware) calls this
 * one; where the response already has its own `writeHead` when the request enters the scope (a
 * Fastify `onRequest` hook of the app's that ran first), the id is set with `setHeader` instead.
 */
function echoingWriteHead(
  this: ScopedResponse,
  statusCode: number,
  reason?: unknown,
  headers?: unknown,
): ServerResponse {
  const writeHead = (Object.getPrototypeOf(this) as ServerResponse).writeHead as (
    this: ServerResponse,
    ...args: unknown[]
  ) => ServerResponse;
  const entry = this[scopeKey];
  const name = entry?.scope.requestIdHeader;
  if (name === undefined || this.headersSent || this.hasHeader(name))
    return writeHead.call(this, statusCode, reason, headers);
  const id = entry!.context.requestId;
  const given = typeof reason === 'string' ? headers : reason;
  if (given === undefined || given === null || typeof given !== 'object') {
    this.setHeader(name, id);
    return writeHead.call(this, statusCode, reason, headers);
  }
  if (namesHeader(given, name)) return writeHead.call(this, statusCode, reason, headers);
  // A copy, never the app's own object or array: it may be shared by every response. An array gets
  // the id in its own form (Node takes `[[name, value], …]` or `[name, value, …]`), not by setHeader,
  // after which Node would take only the flat form.
  let withId: object;
  if (Array.isArray(given))
    withId = given.length > 0 && Array.isArray(given[0]) ? [...given, [name, id]] : [...given, name, id];
  else {
    // Set after the spread, not as a computed key of the literal (which V8 defines at run time).
    const copy: Record<string, unknown> = { ...(given as Record<string, unknown>) };
    copy[name] = id;
    withId = copy;
  }
  return typeof reason === 'string'
    ? writeHead.call(this, statusCode, reason, withId)
    : writeHead.call(this, statusCode, withId);
}

function onResponseClose(this: ScopedResponse): void {
  const entry = this[scopeKey];
  if (entry !== undefined) {
    this[scopeKey] = undefined;
    entry.scope.finish(entry.context, entry.req, this);
    // The context lives as long as what the request started (a timer, a pooled socket): it lets the
    // response go, with its stream and request.
    if (entry.context[http2ResponseSlot] !== undefined) entry.context[http2ResponseSlot] = undefined;
  }
}

// Hook lists are replaced on change (copy-on-write), so the per-request loop needs no guard against a
// hook removing itself while the list is walked.
class HookList<H> {
  items: readonly H[] = [];

  add(hook: H, first = false): () => void {
    this.items = first ? [hook, ...this.items] : [...this.items, hook];
    return () => {
      this.items = this.items.filter((h) => h !== hook);
    };
  }
}

/** The W3C trace headers of a request, as received (several `tracestate` or `baggage` joined). */
interface W3cHeaders {
  traceparent: string | undefined;
  /** How many `traceparent` headers came: more than one is ambiguous, and so ignored. */
  traceparents: number;
  tracestate: string | undefined;
  baggage: string | undefined;
}

type W3cHeaderName = 'traceparent' | 'tracestate' | 'baggage';

/** Which W3C trace header `name` is, if any: one comparison, chosen by length. */
function w3cHeaderName(name: string): W3cHeaderName | undefined {
  switch (name.length) {
    case 11:
      return isHeaderName(name, 'traceparent') ? 'traceparent' : undefined;
    case 10:
      return isHeaderName(name, 'tracestate') ? 'tracestate' : undefined;
    case 7:
      return isHeaderName(name, 'baggage') ? 'baggage' : undefined;
    default:
      return undefined;
  }
}

/** Adds a W3C header to `headers`; returns them (made on the first). */
function collectW3c(headers: W3cHeaders | undefined, name: W3cHeaderName, value: string): W3cHeaders {
  const found = headers ?? {
    traceparent: undefined,
    traceparents: 0,
    tracestate: undefined,
    baggage: undefined,
  };
  if (name === 'traceparent') {
    found.traceparent ??= value;
    found.traceparents++;
  } else {
    const joined = found[name];
    found[name] = joined === undefined ? value : `${joined},${value}`;
  }
  return found;
}

/**
 * What of `headers` the trace carries on: `tracestate` when the request continues its `traceparent`,
 * `baggage` when read; each only when well formed and within W3C's limits. `undefined` for neither.
 */
function receivedPropagation(
  headers: W3cHeaders,
  continuesTraceparent: boolean,
  readsBaggage: boolean,
): ReceivedPropagation | undefined {
  const tracestate =
    continuesTraceparent && headers.tracestate !== undefined
      ? boundedTraceState(headers.tracestate)
      : undefined;
  const baggage = readsBaggage && headers.baggage !== undefined ? boundedBaggage(headers.baggage) : undefined;
  return tracestate === undefined && baggage === undefined ? undefined : { tracestate, baggage };
}

/** Where {@link RequestScope.requestIdFor} leaves the id it made for a request. */
const madeIdSlot = Symbol('apprunner-kit.madeRequestId');

type IdentifiedRequest = IncomingMessage & { [madeIdSlot]?: string };

/**
 * The framework-neutral request scope: gives each request its context, counts requests in flight,
 * and calls the start and finish hooks that other parts (request log line, tracing, metrics)
 * register. Adapters translate their framework's request lifecycle into {@link RequestScope.run}.
 */
export class RequestScope {
  readonly #debugSampleRate: number;
  readonly #debugRequests: RequestPredicate | undefined;
  /** The header the id is adopted from (lower case). */
  readonly #idHeader: string;
  /** The header the id is echoed in, when echo is on. */
  readonly #echoHeader: string | undefined;
  readonly #fieldsPolicy: RequestFieldsPolicy | undefined = undefined;
  readonly #quiet: RequestPredicate | undefined;
  /** Which trace headers are read (`tracing.propagators`). */
  readonly #reads: {
    xray: boolean;
    traceparent: boolean;
    baggage: boolean;
    xrayLast: boolean;
  };
  readonly #startHooks = new HookList<RequestStartHook>();
  readonly #finishHooks = new HookList<RequestFinishHook>();
  #inFlight = 0;
  #served = 0;
  /**
   * Set by the framework adapter: the route pattern of a finished request, asked only when the app
   * named none with `setRequestRoute` (the app's own word wins).
   */
  routeOf: RouteResolver | undefined;

  constructor(options: RequestScopeOptions = {}) {
    installRequestEventsContext();
    this.#debugSampleRate = options.debugSampleRate ?? 0;
    this.#debugRequests = options.debugRequests;
    const header = options.requestIdHeader ?? 'x-request-id';
    this.#idHeader = header === false ? 'x-request-id' : header.toLowerCase();
    this.#echoHeader = header === false ? undefined : this.#idHeader;
    this.#quiet = options.quiet;
    const propagators = options.propagators ?? defaultPropagators;
    this.#reads = {
      xray: propagators.includes('xray'),
      traceparent: propagators.includes('tracecontext'),
      baggage: propagators.includes('baggage'),
      xrayLast: propagators.indexOf('xray') > propagators.indexOf('tracecontext'),
    };
    const { fieldsDropped, routeRefused } = options;
    if (fieldsDropped !== undefined || routeRefused !== undefined) {
      const toldFields = new WeakSet<MutableRequestContext>();
      const toldRoute = new WeakSet<MutableRequestContext>();
      this.#fieldsPolicy = {
        fieldsDropped(context, dropped) {
          if (fieldsDropped === undefined || toldFields.has(context)) return;
          toldFields.add(context);
          fieldsDropped(context, dropped);
        },
        routeRefused(context, route, reason) {
          if (routeRefused === undefined || toldRoute.has(context)) return;
          toldRoute.add(context);
          routeRefused(context, route, reason);
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
      if (isHeaderName(raw[i]!, name)) {
        const id = raw[i + 1]!;
        return isValidRequestId(id) ? id : undefined;
      }
    }
    return undefined;
  }

  /**
   * @internal The id of a request whose framework names it before the scope runs (Fastify's
   * `genReqId`): adopted or made as {@link RequestScope.run} would, and remembered on `req`, so that
   * `run` given it back takes it without checking it again.
   */
  requestIdFor(req: IncomingMessage): string {
    const id = this.adoptedRequestIdOf(req) ?? randomUUID();
    (req as IdentifiedRequest)[madeIdSlot] = id;
    return id;
  }

  /**
   * @internal Takes `id`, which the framework gave the request of `context` after the scope began (a
   * Fastify plugin's own generator, asked as Fastify routes the request), as {@link RequestScope.run}
   * takes a framework's id: when it is well formed and the request brought none in the request id
   * header. No line has carried the id it replaces (no code of the app's ran yet); the echoed header
   * follows, being written from the context with the response's head (unless the response had a
   * `writeHead` of its own when the scope began: see `echoingWriteHead`).
   */
  takeLaterRequestId(context: MutableRequestContext, req: IncomingMessage, id: unknown): void {
    if (typeof id !== 'string' || id === context.requestId || !isValidRequestId(id)) return;
    if (this.adoptedRequestIdOf(req) !== undefined) return;
    (context as { requestId: string }).requestId = id;
    context[plainIdSlot] = isPlainRequestId(id);
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

  /**
   * Adds a finish hook, after those added before it (`first`: before them); returns the function
   * that removes it.
   */
  onFinish(hook: RequestFinishHook, options?: { readonly first?: boolean }): () => void {
    return this.#finishHooks.add(hook, options?.first === true);
  }

  /**
   * Runs `handler` inside a new request context, counted in flight until the response ends.
   * `requestId`: an id the framework already gave the request (Fastify's `request.id`): taken when
   * well formed (visible ASCII, 1–128 characters) and the request brought none in the request id
   * header, instead of a generated one. `counted: false`: a health request, logged but not counted in
   * flight nor served (not by the load shedder, nor in the metrics' in-flight peak).
   */
  run<T>(req: IncomingMessage, res: ServerResponse, handler: () => T, requestId?: string, counted = true): T {
    // From rawHeaders, not req.headers: Node builds the headers object lazily, on first access, and
    // an app that never reads it should not pay for it here.
    const raw = req.rawHeaders;
    const idHeader = this.#idHeader;
    const reads = this.#reads;
    let requestIdHeader: string | undefined;
    let rawTrace: string | undefined;
    let w3cHeaders: W3cHeaders | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (isHeaderName(name, idHeader)) requestIdHeader ??= raw[i + 1];
      else if (isHeaderName(name, 'x-amzn-trace-id')) rawTrace ??= raw[i + 1];
      else {
        // Read under `xray` alone too: a reverse proxy copies the `traceparent` it does not continue.
        const w3cName = w3cHeaderName(name);
        if (w3cName !== undefined) w3cHeaders = collectW3c(w3cHeaders, w3cName, raw[i + 1]!);
      }
    }
    const traceHeader =
      rawTrace !== undefined && rawTrace.length <= maxTraceHeaderLength ? rawTrace : undefined;
    const xrayParent = traceHeader === undefined || !reads.xray ? undefined : parseTraceHeader(traceHeader);
    let traceParent = xrayParent;
    let received: ReceivedPropagation | undefined;
    let setAside: string | undefined;
    if (w3cHeaders !== undefined) {
      const w3cParent =
        reads.traceparent && w3cHeaders.traceparents === 1
          ? parseTraceparent(w3cHeaders.traceparent)
          : undefined;
      // An X-Amzn-Trace-Id with no Parent (a load balancer starting a trace) names no span to continue;
      // its Lineage (Lambda's recursion detection) still goes on with the calls.
      const continuesW3c = w3cParent !== undefined && (xrayParent?.parent === undefined || !reads.xrayLast);
      if (continuesW3c)
        traceParent =
          xrayParent?.lineage === undefined ? w3cParent : { ...w3cParent, lineage: xrayParent.lineage };
      // Both headers naming the same span (an ADOT caller sends both): its tracestate goes on too.
      const sameSpan =
        w3cParent !== undefined &&
        xrayParent?.root === w3cParent.root &&
        xrayParent.parent === w3cParent.parent;
      received = receivedPropagation(w3cHeaders, continuesW3c || sameSpan, reads.baggage);
      if (!continuesW3c && w3cHeaders.traceparents === 1) setAside = w3cHeaders.traceparent;
    }
    // The framework's id when the kit made it; else the caller's, so that calls stay joined across
    // services; else the framework's (the app's own generator); each checked now, while it is a flat
    // string. A generated id is a UUID: plain.
    const adopted =
      requestId !== undefined && (req as IdentifiedRequest)[madeIdSlot] === requestId
        ? requestId
        : requestIdHeader !== undefined && isValidRequestId(requestIdHeader)
          ? requestIdHeader
          : requestId !== undefined && isValidRequestId(requestId)
            ? requestId
            : undefined;
    const context = new ScopeContext(
      req.url,
      adopted ?? randomUUID(),
      adopted === undefined || isPlainRequestId(adopted),
      traceHeader,
      traceParent,
      (this.#debugSampleRate > 0 && Math.random() < this.#debugSampleRate) ||
        this.#debugRequests?.(req) === true,
      this.#fieldsPolicy,
    );
    if (received !== undefined) context[propagationSlot] = received;
    if (setAside !== undefined && setAside.length <= maxTraceHeaderLength)
      context[setAsideTraceparentSlot] = setAside;
    // Set only when quiet, as the propagation slot: the common shape stays as it is.
    if (this.#quiet?.(req) === true) context[quietSlot] = true;
    if (req.httpVersionMajor === 2) context[http2ResponseSlot] = res;
    if (this.#echoHeader !== undefined && !res.headersSent) {
      if (Object.hasOwn(res, 'writeHead')) res.setHeader(this.#echoHeader, context.requestId);
      else res.writeHead = echoingWriteHead as ServerResponse['writeHead'];
    }
    if (counted) this.#inFlight++;
    else context[uncountedSlot] = true; // set only then: the common shape stays as it is
    // One shared listener, the context on the response: no closure allocated per request.
    (res as ScopedResponse)[scopeKey] = { scope: this, context, req };
    res.on('close', onResponseClose);
    const startHooks = this.#startHooks.items;
    for (let i = 0; i < startHooks.length; i++) startHooks[i]!(context, req, res);
    return runWithRequestContext(context, handler);
  }

  /** @internal Called by the shared 'close' listener. */
  finish(context: MutableRequestContext, req: IncomingMessage, res: ServerResponse): void {
    // Its duration taken now marks it finished, whatever hook reads it: setRequestRoute is refused
    // from here on, the line, the metrics and the span having read the route.
    requestDurationMs(context);
    if (context[uncountedSlot] !== true) {
      this.#inFlight--;
      this.#served++;
    }
    // A route the app named (setRequestRoute) wins over the one the adapter found.
    if (context.route === undefined && this.routeOf !== undefined) context.route = this.routeOf(req);
    const finishHooks = this.#finishHooks.items;
    for (let i = 0; i < finishHooks.length; i++) finishHooks[i]!(context, req, res);
  }
}
