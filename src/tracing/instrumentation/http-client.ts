import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { pathWithoutQuery } from '../../http/path.js';
import type { ClientSpan, OutgoingCall, TracingBackend } from '../backend.js';
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
 * written — starts the span and sets `X-Amzn-Trace-Id` (unless the caller set one, or passed raw
 * array headers, which are written at once). The span ends on the request's `close`; the status
 * comes from `req.res`, the error from the `http.client.request.error` channel. No listener that
 * changes behaviour (`response`, `error`) is added. Code that kept a reference to `http.request`
 * before the kit started is not traced.
 *
 * Returns the function that restores the originals (unless something wrapped them again since: the
 * kit's wrapper then passes calls straight through).
 */
export function instrumentHttpClient(backend: TracingBackend, failures: InstrumentationFailures): () => void {
  let active = true;
  const errors = new WeakMap<object, unknown>();
  const onError = (message: unknown) => {
    const { request, error } = (message ?? {}) as { request?: unknown; error?: unknown };
    if (typeof request === 'object' && request !== null) errors.set(request, error);
  };

  const trace = (req: ClientRequest, defaultProtocol: string) => {
    let span: ClientSpan | undefined;
    try {
      span = backend.startClientSpan(describe(req, defaultProtocol));
      if (span === undefined) return;
      if (
        span.traceHeader !== undefined &&
        !req.headersSent &&
        req.getHeader('x-amzn-trace-id') === undefined
      ) {
        req.setHeader('X-Amzn-Trace-Id', span.traceHeader);
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
  subscribe('http.client.request.error', onError);

  return () => {
    active = false;
    for (const { module, name, original, wrapper } of patches) {
      if (module[name] === wrapper) module[name] = original;
    }
    syncBuiltinESMExports();
    unsubscribe('http.client.request.error', onError);
  };
}
