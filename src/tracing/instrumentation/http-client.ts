import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { getRequestContext } from '../../http/context.js';
import { pathWithoutQuery } from '../../http/path.js';
import type { ClientSpan, OutgoingCall, TracingBackend } from '../backend.js';
import { addPropagationHeaders } from '../propagation.js';
import type { InstrumentationFailures } from './failures.js';

type RequestFunction = (this: unknown, ...args: unknown[]) => ClientRequest;

interface Patch {
  readonly module: Record<string, unknown>;
  readonly name: 'request' | 'get';
  readonly original: unknown;
  readonly wrapper: RequestFunction;
}

function portOf(req: ClientRequest, protocol: string): number | undefined {
  const host = req.getHeader('host');
  const port = typeof host === 'string' ? /:(\d{1,5})$/.exec(host)?.[1] : undefined;
  if (port !== undefined) return Number(port);
  return protocol === 'https:' ? 443 : 80;
}

function describe(req: ClientRequest, defaultProtocol: string): OutgoingCall {
  const protocol = typeof req.protocol === 'string' ? req.protocol : defaultProtocol;
  return {
    kind: 'http',
    library: 'node:http',
    method: typeof req.method === 'string' ? req.method : 'GET',
    protocol,
    host: typeof req.host === 'string' ? req.host : 'localhost',
    port: portOf(req, protocol),
    path: pathWithoutQuery(typeof req.path === 'string' ? req.path : undefined),
  };
}

/**
 * Client spans for `node:http` and `node:https` requests, without a loader. On Node.js 20 the
 * `http.client.request.start` diagnostics channel fires after the headers are written, too late to
 * add the trace header, so the kit wraps `http.request`, `http.get`, `https.request` and `https.get`
 * while it runs (and `module.syncBuiltinESMExports()` makes `import { request } from 'node:http'`
 * see the wrapper too). The wrapper lets Node build the `ClientRequest`, then — before anything is
 * written — starts the span and sets the trace headers (`tracing.propagators`; each unless the
 * caller set it, and none when the caller passed raw array headers, which are written at once). The span ends on the request's `close`; the status
 * comes from `req.res`, the error from the `http.client.request.error` channel. No listener that
 * changes behaviour (`response`, `error`) is added. Code that kept a reference to `http.request`
 * before the kit started is not traced. Within a request, `requestIdHeader` (when given) carries the
 * request's id, unless the caller set it; with no `backend` (tracing off) that is all it does.
 *
 * Returns the function that restores the originals (unless something wrapped them again since: the
 * kit's wrapper then passes calls straight through).
 */
export function instrumentHttpClient(
  backend: TracingBackend | undefined,
  failures: InstrumentationFailures,
  requestIdHeader?: string,
): () => void {
  let active = true;
  const errors = new WeakMap<object, unknown>();
  const onError = (message: unknown) => {
    const { request, error } = (message ?? {}) as { request?: unknown; error?: unknown };
    if (typeof request === 'object' && request !== null) errors.set(request, error);
  };

  const trace = (req: ClientRequest, defaultProtocol: string) => {
    if (requestIdHeader !== undefined) forwardRequestId(req, requestIdHeader, failures);
    if (backend === undefined) return;
    let span: ClientSpan | undefined;
    try {
      span = backend.startClientSpan(describe(req, defaultProtocol));
      if (span === undefined) return;
      if (!req.headersSent) {
        addPropagationHeaders(
          span.headers,
          (name) => req.getHeader(name) !== undefined,
          (name, value) => req.setHeader(name, value),
        );
      }
    } catch (error) {
      failures.report('starting a node:http span', error);
    }
    if (span === undefined) return;
    const traced = span;
    req.once('close', () => {
      const res = (req as { res?: IncomingMessage | null }).res ?? undefined;
      const error =
        errors.get(req) ??
        (res === undefined
          ? new Error('the request ended before a response')
          : res.complete
            ? undefined
            : new Error('the response was cut short'));
      traced.end({ statusCode: res?.statusCode, error });
    });
  };

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
  patch(http, 'http:');
  patch(https, 'https:');
  syncBuiltinESMExports();
  if (backend !== undefined) subscribe('http.client.request.error', onError);

  return () => {
    active = false;
    for (const { module, name, original, wrapper } of patches) {
      if (module[name] === wrapper) module[name] = original;
    }
    syncBuiltinESMExports();
    if (backend !== undefined) unsubscribe('http.client.request.error', onError);
  };
}

/** Sets the current request's id on `req` as `header`, unless the caller set it or it is too late. */
function forwardRequestId(req: ClientRequest, header: string, failures: InstrumentationFailures): void {
  try {
    const context = getRequestContext();
    if (context !== undefined && !req.headersSent && req.getHeader(header) === undefined)
      req.setHeader(header, context.requestId);
  } catch (error) {
    failures.report('forwarding the request id on node:http', error);
  }
}

/** Node.js lines with the `http.client.request.created` channel: 22.12 and later, 23.2 and later. */
function hasCreatedChannel(version: string): boolean {
  const [major = 0, minor = 0] = version.slice(1).split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 2) || (major === 22 && minor >= 12);
}

/**
 * Forwards the request id on `node:http`/`https` requests made within a request, without wrapping
 * anything: the `http.client.request.created` channel hands over each `ClientRequest` before its
 * headers are written, whoever created it (the AWS SDK's handler included). For tracing off, where
 * nothing else needs the wrapper. `undefined` on a Node.js line without that channel (22 before
 * 22.12): use {@link instrumentHttpClient} there.
 */
export function forwardRequestIdOnHttpClient(
  header: string,
  failures: InstrumentationFailures,
  version: string = process.version,
): (() => void) | undefined {
  if (!hasCreatedChannel(version)) return undefined;
  const onCreated = (message: unknown) => {
    const request = (message as { request?: unknown } | null)?.request;
    if (request instanceof http.ClientRequest) forwardRequestId(request, header, failures);
  };
  subscribe('http.client.request.created', onCreated);
  return () => unsubscribe('http.client.request.created', onCreated);
}
