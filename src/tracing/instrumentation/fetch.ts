import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { getRequestContext } from '../../http/context.js';
import { symbolSlot } from '../../internal/symbol-slot.js';
import type { ClientSpan, OutgoingCall, TracingBackend } from '../backend.js';
import { globalTracingSuppressed } from '../global-otel.js';
import { addPropagationHeaders } from '../propagation.js';
import { callTarget, withoutBrackets } from './call-target.js';
import type { InstrumentationFailures } from './failures.js';

/** undici's request, as its diagnostics channels publish it (undici 5 and 6; Node 20's fetch is undici 6). */
interface UndiciRequest {
  readonly origin?: unknown;
  readonly method?: unknown;
  readonly path?: unknown;
  /** undici 6: `[name, value, name, value, …]`; undici 5: `name: value\r\n…`. */
  headers?: unknown;
  addHeader?(name: string, value: string): unknown;
}

interface TracedRequest {
  readonly span: ClientSpan;
  statusCode: number | undefined;
}

function requestOf(message: unknown): UndiciRequest | undefined {
  const request = (message as { request?: unknown } | null)?.request;
  return typeof request === 'object' && request !== null ? (request as UndiciRequest) : undefined;
}

/** The first value of `name` (lower case) in undici's `headers`; `undefined` when absent. */
function headerValue(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    }
    return undefined;
  }
  if (typeof headers !== 'string') return undefined;
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon !== -1 && line.slice(0, colon).toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/**
 * Sets `name` on an undici request, in place of the values it holds (undici's `addHeader` appends):
 * a trace header copied from the request being handled gives way to the kit's. Without `value`,
 * removes them.
 */
function replaceHeader(request: UndiciRequest, name: string, value?: string): void {
  const { headers } = request;
  if (Array.isArray(headers)) {
    for (let i = headers.length - 2; i >= 0; i -= 2) {
      if (String(headers[i]).toLowerCase() === name) headers.splice(i, 2);
    }
  } else if (typeof headers === 'string' && headerValue(headers, name) !== undefined) {
    request.headers = headers
      .split('\r\n')
      .filter((line) => line.slice(0, line.indexOf(':')).toLowerCase() !== name)
      .join('\r\n');
  }
  if (value !== undefined) request.addHeader?.(name, value);
}

/** Handlers an interceptor's handler wraps, each its `handler` (undici's own), from `handler` down. */
function handlerChain(handler: unknown): object[] {
  const chain: object[] = [];
  for (let h = handler; typeof h === 'object' && h !== null && chain.length < 8; ) {
    chain.push(h);
    h = (h as { handler?: unknown }).handler;
  }
  return chain;
}

/** Whether `handler` is one of undici's that dispatch their call again: a retry's, a redirect's. */
function redispatches(handler: object): boolean {
  const name = (handler as { constructor?: { name?: unknown } }).constructor?.name;
  return name === 'RetryHandler' || name === 'RedirectHandler';
}

function describe(request: UndiciRequest): OutgoingCall | undefined {
  let origin: URL;
  try {
    origin = new URL(String(request.origin));
  } catch {
    return undefined;
  }
  const target = callTarget(
    {
      protocol: origin.protocol,
      host: withoutBrackets(origin.hostname),
      port: origin.port === '' ? undefined : Number(origin.port),
    },
    typeof request.path === 'string' ? request.path : undefined,
  );
  return {
    kind: 'http',
    library: 'fetch',
    method: typeof request.method === 'string' ? request.method : 'GET',
    ...target,
  };
}

/**
 * Client spans for `fetch` (and any undici client) through undici's diagnostics channels — no
 * loader, no patching: `undici:request:create` starts the span and adds the trace headers
 * (`tracing.propagators`; each unless the caller set it), `undici:request:headers` records the status,
 * `undici:request:trailers` (the body was read to its end) or `undici:request:error` ends it. A
 * response whose body is never read leaves its span unended (and unexported), as the request
 * itself is. Within a request, `requestIdHeader` (when given) carries the request's id, unless the
 * caller set it; with no `backend` (tracing off) that is all it does. A request made where tracing is
 * suppressed in OpenTelemetry's global context (`suppressTracing()`: an SDK's own uploads and
 * exports) gets neither span nor header. A request undici dispatches again for the same call (a retry,
 * a redirect of its interceptors) is made in the context of the call's first. Returns the function
 * that unsubscribes.
 */
export function instrumentFetch(
  backend: TracingBackend | undefined,
  failures: InstrumentationFailures,
  requestIdHeader?: string,
): () => void {
  const traced = new WeakMap<object, TracedRequest>();
  /** The context each undici handler first dispatched in: its later attempts run in it again. */
  const firstDispatch = new WeakMap<object, ReturnType<typeof AsyncLocalStorage.snapshot>>();
  const onCreate = (message: unknown) => {
    try {
      const request = requestOf(message);
      if (request === undefined) return;
      // A retry or a redirect of undici's interceptors (RetryAgent, interceptors.retry/redirect)
      // dispatches its handler again from its response callback, in the context of whoever opened the
      // pooled connection (another request, or none): it is its first attempt's call. The handler
      // dispatched again may be wrapped anew by the interceptors under it: found down the chain.
      const chain = handlerChain(symbolSlot(request, 'handler'));
      for (const handler of chain) {
        const first = firstDispatch.get(handler);
        if (first !== undefined) return first(start, request);
      }
      // Only for a call whose handlers may dispatch again: a snapshot costs some microseconds.
      if (chain.some(redispatches)) {
        const snapshot = AsyncLocalStorage.snapshot();
        for (const handler of chain) firstDispatch.set(handler, snapshot);
      }
      start(request);
    } catch (error) {
      failures.report('starting a fetch span', error);
    }
  };
  const start = (request: UndiciRequest): void => {
    try {
      // An SDK's own upload or export (Sentry's envelopes, an exporter's request): left as it is.
      if (globalTracingSuppressed()) return;
      if (requestIdHeader !== undefined && typeof request.addHeader === 'function') {
        const context = getRequestContext();
        if (context !== undefined && headerValue(request.headers, requestIdHeader) === undefined)
          request.addHeader(requestIdHeader, context.requestId);
      }
      if (backend === undefined) return;
      const call = describe(request);
      if (call === undefined) return;
      const span = backend.startClientSpan(call);
      if (span === undefined) return;
      traced.set(request, { span, statusCode: undefined });
      if (typeof request.addHeader === 'function') {
        addPropagationHeaders(
          span.headers,
          (name) => headerValue(request.headers, name),
          (name, value) => replaceHeader(request, name, value),
          (name) => replaceHeader(request, name),
        );
      }
    } catch (error) {
      failures.report('starting a fetch span', error);
    }
  };
  const onHeaders = (message: unknown) => {
    const request = requestOf(message);
    const entry = request === undefined ? undefined : traced.get(request);
    if (entry === undefined) return;
    const status = (message as { response?: { statusCode?: unknown } }).response?.statusCode;
    if (typeof status === 'number') entry.statusCode = status;
  };
  const onTrailers = (message: unknown) => {
    const request = requestOf(message);
    const entry = request === undefined ? undefined : traced.get(request);
    if (entry === undefined || request === undefined) return;
    traced.delete(request);
    entry.span.end({ statusCode: entry.statusCode });
  };
  const onError = (message: unknown) => {
    const request = requestOf(message);
    const entry = request === undefined ? undefined : traced.get(request);
    if (entry === undefined || request === undefined) return;
    traced.delete(request);
    entry.span.end({
      statusCode: entry.statusCode,
      error: (message as { error?: unknown }).error ?? new Error('fetch failed'),
    });
  };
  const channels: [string, (message: unknown) => void][] =
    backend === undefined
      ? [['undici:request:create', onCreate]]
      : [
          ['undici:request:create', onCreate],
          ['undici:request:headers', onHeaders],
          ['undici:request:trailers', onTrailers],
          ['undici:request:error', onError],
        ];
  for (const [name, listener] of channels) subscribe(name, listener);
  return () => {
    for (const [name, listener] of channels) unsubscribe(name, listener);
  };
}
