import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A CORS preflight (Fetch standard: `OPTIONS` with `Origin` and `Access-Control-Request-Method`).
 * Load shedding lets it through to the app's CORS handling: shed, the browser never sends the real
 * request and its page sees a network error, not the 503.
 */
export function isPreflight(req: IncomingMessage): boolean {
  const { headers } = req;
  return (
    req.method === 'OPTIONS' &&
    headers.origin !== undefined &&
    headers['access-control-request-method'] !== undefined
  );
}

/** A serialised origin (`https://web.example`, `http://[::1]:8080`) or the opaque `null`. */
const serialisedOrigin = /^(?:null|[a-z][a-z\d+.-]*:\/\/[\w.~%:[\]-]+)$/i;

/** An origin is far shorter; a longer header is not echoed. */
const maxOriginLength = 512;

/**
 * The request's `Origin` when a shed answer may name it in `Access-Control-Allow-Origin`: one
 * serialised origin, as browsers send it. Two joined by Node (`a, b`) or anything else: none.
 */
export function shedOrigin(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  return origin !== undefined && origin.length <= maxOriginLength && serialisedOrigin.test(origin)
    ? origin
    : undefined;
}

/**
 * The headers that let a page of any origin read a shed answer, but `Access-Control-Allow-Origin`
 * (the request's own origin, added per answer). Safe for any origin, credentials included: the answer
 * is the same whoever asks and whatever the cookies (the kit's fixed body, `Retry-After`, and the
 * request id the caller sent), and the app's code never ran. `Retry-After` and the request id are not
 * safelisted response headers: without `Access-Control-Expose-Headers` a page cannot read them.
 */
export function shedCorsHeaders(requestIdHeader: string | undefined): Readonly<Record<string, string>> {
  return Object.freeze({
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers':
      requestIdHeader === undefined ? 'retry-after' : `retry-after, ${requestIdHeader}`,
    vary: 'Origin',
  });
}

/** Sets `headers` and `Access-Control-Allow-Origin: origin` on `res` (before `loadShedding.respond`). */
export function setShedCorsHeaders(
  res: ServerResponse,
  headers: Readonly<Record<string, string>>,
  origin: string,
): void {
  res.setHeader('access-control-allow-origin', origin);
  for (const name in headers) res.setHeader(name, headers[name]!);
}
