import type { ClientRequest } from 'node:http';
import { namingTraceHeaders, traceContextHeaders } from '../propagation.js';

type HeaderMethod = (
  this: ClientRequest,
  name: string,
  value: number | string | readonly string[],
) => ClientRequest;

/**
 * Makes the headers the kit set on `req` as it was created (`kitHeaders`, lower-case name to value)
 * give way to the ones its caller sets later, before the head is sent: `req.setHeader` and
 * `req.appendHeader` of a name the kit set first remove the kit's value (an appended value would
 * otherwise go with it: two `traceparent`s, two `x-request-id`s), and a trace header the caller sets
 * (`X-Amzn-Trace-Id`, `traceparent`) removes the kit's other trace headers, which name the kit's
 * trace: the service called would follow one, X-Ray record two. A header the caller changed already
 * is the caller's, and is left alone. Wraps the two methods on `req` itself, and only when the kit set
 * a header; they behave as before otherwise (and throw as before once the head is sent).
 *
 * @example
 * ```ts
 * callerHeadersWin(req, new Map([['traceparent', '00-…-01'], ['x-amzn-trace-id', 'Root=…']]));
 * req.setHeader('traceparent', mine); // the kit's X-Amzn-Trace-Id is removed
 * ```
 */
export function callerHeadersWin(req: ClientRequest, kitHeaders: Map<string, string>): void {
  if (kitHeaders.size === 0) return;
  const giveWay = (name: unknown) => {
    if (typeof name !== 'string' || req.headersSent) return;
    const lower = name.toLowerCase();
    const names = namingTraceHeaders.includes(lower) ? traceContextHeaders : [lower];
    for (const kitName of names) {
      const value = kitHeaders.get(kitName);
      if (value === undefined) continue;
      kitHeaders.delete(kitName);
      if (req.getHeader(kitName) === value) req.removeHeader(kitName);
    }
  };
  const wrap = (method: HeaderMethod | undefined): HeaderMethod | undefined =>
    typeof method === 'function'
      ? function (this: ClientRequest, name, value) {
          if (this === req) giveWay(name);
          return method.call(this, name, value);
        }
      : undefined;
  const setHeader = wrap(req.setHeader as HeaderMethod);
  const appendHeader = wrap((req as { appendHeader?: HeaderMethod }).appendHeader);
  if (setHeader !== undefined)
    Object.defineProperty(req, 'setHeader', { value: setHeader, configurable: true, writable: true });
  if (appendHeader !== undefined) {
    Object.defineProperty(req, 'appendHeader', { value: appendHeader, configurable: true, writable: true });
  }
}
