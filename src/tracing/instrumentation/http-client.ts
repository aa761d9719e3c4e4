import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { getRequestContext } from '../../http/context.js';
import type { ClientSpan, OutgoingCall, TracingBackend } from '../backend.js';
import { globalTracingSuppressed } from '../global-otel.js';
import { addPropagationHeaders, type PropagationHeader } from '../propagation.js';
import { callTarget, withoutBrackets } from './call-target.js';
import { callerHeadersWin } from './caller-headers.js';
import type { InstrumentationFailures } from './failures.js';

type RequestFunction = (this: unknown, ...args: unknown[]) => ClientRequest;

interface Patch {
  readonly module: Record<string, unknown>;
  readonly name: 'request' | 'get';
  readonly original: unknown;
  readonly wrapper: RequestFunction;
}

/**
 * The `Host` header of `req`: the one set, or else the one in the head Node already wrote (raw array
 * headers, which Node writes as the request is created and keeps no header of to get).
 */
function hostHeaderOf(req: ClientRequest): unknown {
  const header = req.getHeader('host');
  if (header !== undefined) return header;
  const head = (req as { _header?: unknown })._header;
  return typeof head === 'string' ? /\r\nhost:[ \t]*([^\r\n]*?)[ \t]*\r\n/i.exec(head)?.[1] : undefined;
}

/**
 * The port a request connects to, as far as the request tells: the `Host` header Node wrote
 * (`host:port`, without the port for the protocol's default). A `Host` the caller set for another
 * name (virtual hosting) says nothing of the connection: no port then.
 */
function portOf(req: ClientRequest, host: string, protocol: string): number | undefined {
  const header = hostHeaderOf(req);
  if (typeof header !== 'string') return undefined;
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(header);
  if (match === null || withoutBrackets(match[1]!).toLowerCase() !== host.toLowerCase()) return undefined;
  if (match[2] !== undefined) return Number(match[2]);
  return protocol === 'https:' ? 443 : 80;
}

function describe(req: ClientRequest, defaultProtocol: string): OutgoingCall {
  const protocol = typeof req.protocol === 'string' ? req.protocol : defaultProtocol;
  const host = typeof req.host === 'string' ? req.host : 'localhost';
  const target = callTarget(
    { protocol, host, port: portOf(req, host, protocol) },
    typeof req.path === 'string' ? req.path : undefined,
  );
  return {
    kind: 'http',
    library: 'node:http',
    method: typeof req.method === 'string' ? req.method : 'GET',
    ...target,
  };
}

/** A header of a `node:http` request as text: the first of several values. */
function headerText(value: number | string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'object' ? value[0] : String(value);
}

/**
 * Client spans for `node:http` and `node:https` requests, without a loader. From Node.js 22.12 (and
 * 23.2) the `http.client.request.created` diagnostics channel hands over every `ClientRequest` before
 * its headers are written, whoever created it and however it reached `http.request` (a reference kept
 * from before the kit started included); on earlier lines the kit wraps `http.request`, `http.get`,
 * `https.request` and `https.get` while it runs (and `module.syncBuiltinESMExports()` makes
 * `import { request } from 'node:http'` see the wrapper too). Then — before anything is written — it
 * starts the span and sets the trace headers (`tracing.propagators`; each unless the caller set it,
 * and none when the head went out at once: raw array headers, `Expect: 100-continue`); a header the
 * caller sets later, before the head is sent, wins over the kit's, a copied trace header excepted
 * ({@link callerHeadersWin}). The span ends as soon as the outcome is known: the
 * `http.client.request.error` channel's error, the response's `end` (found through the
 * `http.client.response.finish` channel), or else the request's `close`.
 * No listener that changes behaviour (`response`, `error`, `data`) is added. Within a request,
 * `requestIdHeader` (when given) carries the request's id, unless the caller set it; with no
 * `backend` (tracing off) that is all it does. A request made where tracing is suppressed in
 * OpenTelemetry's global context (`suppressTracing()`: an SDK's own uploads and exports) gets
 * neither span nor header.
 *
 * Returns the function that removes it (a wrapper is put back only if nothing wrapped it again since:
 * the kit's wrapper then passes calls straight through).
 */
export function instrumentHttpClient(
  backend: TracingBackend | undefined,
  failures: InstrumentationFailures,
  requestIdHeader?: string,
  version: string = process.version,
): () => void {
  let active = true;
  /** How each traced request in progress ends its span: with the error, when one is known. */
  const ending = new WeakMap<object, (error?: unknown) => void>();
  const onError = (message: unknown) => {
    const { request, error } = (message ?? {}) as { request?: unknown; error?: unknown };
    if (typeof request === 'object' && request !== null) ending.get(request)?.(error);
  };
  const onResponse = (message: unknown) => {
    const { request, response } = (message ?? {}) as { request?: unknown; response?: unknown };
    const end = typeof request === 'object' && request !== null ? ending.get(request) : undefined;
    // `end` only: it neither starts the body flowing nor takes over its errors.
    if (end !== undefined && response instanceof EventEmitter) response.once('end', () => end());
  };

  const trace = (req: ClientRequest, defaultProtocol: string) => {
    // An SDK's own upload or export (Sentry's envelopes, an exporter's request): left as it is.
    if (globalTracingSuppressed()) return;
    // The headers the kit sets, which give way to those the caller sets later. Made only when the kit
    // sets one: a call outside any request (a health probe, a refresh) makes no Map (measured: ~18 ns
    // a call saved).
    const id = requestIdHeader === undefined ? undefined : forwardRequestId(req, requestIdHeader, failures);
    let kitHeaders = id === undefined ? undefined : new Map([id]);
    let span: ClientSpan | undefined;
    try {
      span = backend?.startClientSpan(describe(req, defaultProtocol));
      if (span !== undefined && !req.headersSent) {
        addPropagationHeaders(
          span.headers,
          (name) => headerText(req.getHeader(name)),
          (name, value) => {
            req.setHeader(name, value);
            kitHeaders ??= new Map();
            kitHeaders.set(name, value);
          },
          (name) => req.removeHeader(name),
        );
      }
    } catch (error) {
      failures.report('starting a node:http span', error);
    }
    try {
      if (kitHeaders !== undefined) callerHeadersWin(req, kitHeaders);
    } catch (error) {
      failures.report('watching the headers set on node:http', error);
    }
    if (span === undefined) return;
    const traced = span;
    const end = (error?: unknown) => {
      if (ending.get(req) !== end) return;
      ending.delete(req);
      const res = (req as { res?: IncomingMessage | null }).res ?? undefined;
      traced.end({
        statusCode: res?.statusCode,
        error:
          error ??
          (res === undefined
            ? new Error('the request ended before a response')
            : res.complete
              ? undefined
              : new Error('the response was cut short')),
      });
    };
    ending.set(req, end);
    req.once('close', () => end());
  };

  const channels: [string, (message: unknown) => void][] = [];
  if (backend !== undefined) {
    channels.push(['http.client.request.error', onError], ['http.client.response.finish', onResponse]);
  }
  const patches: Patch[] = [];
  const patch = (module: object, defaultProtocol: string) => {
    const target = module as Record<string, unknown>;
    const originalRequest = target.request as RequestFunction;
    const request: RequestFunction = function request(this: unknown, ...args: unknown[]) {
      const req = originalRequest.apply(this, args);
      if (active) trace(req, defaultProtocol);
      return req;
    };
    // As Node's own `get`: the (wrapped) request, ended at once.
    const get: RequestFunction = function get(this: unknown, ...args: unknown[]) {
      const req = request.apply(this, args);
      req.end();
      return req;
    };
    patches.push({ module: target, name: 'request', original: target.request, wrapper: request });
    patches.push({ module: target, name: 'get', original: target.get, wrapper: get });
    target.request = request;
    target.get = get;
  };
  if (hasCreatedChannel(version)) {
    channels.push([
      'http.client.request.created',
      (message) => {
        const request = (message as { request?: unknown } | null)?.request;
        if (active && request instanceof http.ClientRequest) trace(request, 'http:');
      },
    ]);
  } else {
    patch(http, 'http:');
    patch(https, 'https:');
    syncBuiltinESMExports();
  }
  for (const [name, listener] of channels) subscribe(name, listener);

  return () => {
    active = false;
    for (const [name, listener] of channels) unsubscribe(name, listener);
    if (patches.length === 0) return;
    for (const { module, name, original, wrapper } of patches) {
      if (module[name] === wrapper) module[name] = original;
    }
    syncBuiltinESMExports();
  };
}

/**
 * Sets the current request's id on `req` as `header`, unless the caller set it or it is too late;
 * returns the header set (its lower-case name and value), if any.
 */
function forwardRequestId(
  req: ClientRequest,
  header: string,
  failures: InstrumentationFailures,
): PropagationHeader | undefined {
  try {
    const context = getRequestContext();
    if (context !== undefined && !req.headersSent && req.getHeader(header) === undefined) {
      req.setHeader(header, context.requestId);
      return [header.toLowerCase(), context.requestId];
    }
  } catch (error) {
    failures.report('forwarding the request id on node:http', error);
  }
  return undefined;
}

/** Node.js lines with the `http.client.request.created` channel: 22.12 and later, 23.2 and later. */
function hasCreatedChannel(version: string): boolean {
  const [major = 0, minor = 0] = version.slice(1).split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 2) || (major === 22 && minor >= 12);
}
