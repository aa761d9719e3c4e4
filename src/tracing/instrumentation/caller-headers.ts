import type { ClientRequest } from 'node:http';
import { copiedTraceHeader, namingTraceHeaders, traceContextHeaders } from '../propagation.js';

type HeaderValue = number | string | readonly string[];
type HeaderMethod = (this: ClientRequest, name: string, value: HeaderValue) => ClientRequest;

/** Whether `value`, set as a trace header, is a copy ({@link copiedTraceHeader}), every value of it. */
function copied(value: unknown): boolean {
  if (typeof value === 'string') return copiedTraceHeader(value);
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((one) => typeof one === 'string' && copiedTraceHeader(one))
  );
}

/**
 * Makes the headers the kit set on `req` as it was created (`kitHeaders`, lower-case name to value)
 * give way to the ones its caller sets later, before the head is sent: `req.setHeader` and
 * `req.appendHeader` of a name the kit set first remove the kit's value (an appended value would
 * otherwise go with it: two `traceparent`s, two `x-request-id`s), and a trace header the caller sets
 * (`X-Amzn-Trace-Id`, `traceparent`) removes the kit's other trace headers, which name the kit's
 * trace: the service called would follow one, X-Ray record two. A header the caller changed already
 * is the caller's, and is left alone. As at creation, a trace header that is no choice of the
 * caller's — copied from the request being handled, or from the kit's own earlier call (superagent
 * sets every header this way, and follows a redirect with the previous request's) — is held back
 * while the kit's trace headers stand: it would name this service's caller, or that earlier call,
 * as the callee's parent; it is set after all, in its turn, if the caller then sets a trace header
 * of its own. Wraps the two methods on `req` itself, and only when the kit set a header; they behave
 * as before otherwise (and throw as before once the head is sent).
 *
 * @example
 * ```ts
 * callerHeadersWin(req, new Map([['traceparent', '00-…-01'], ['x-amzn-trace-id', 'Root=…']]));
 * req.setHeader('traceparent', mine); // the kit's X-Amzn-Trace-Id is removed
 * ```
 */
export function callerHeadersWin(req: ClientRequest, kitHeaders: Map<string, string>): void {
  if (kitHeaders.size === 0) return;
  /** The calls that set a copied trace header, held back, in their order. */
  let held: [method: HeaderMethod, name: string, value: HeaderValue][] | undefined;
  const kitTraceStands = () =>
    namingTraceHeaders.some((name) => {
      const value = kitHeaders.get(name);
      return value !== undefined && req.getHeader(name) === value;
    });
  /** Whether the call is to be held back; else the kit's headers of that name give way to it. */
  const holdBack = (name: unknown, value: unknown): boolean => {
    if (typeof name !== 'string' || req.headersSent) return false;
    const lower = name.toLowerCase();
    const naming = namingTraceHeaders.includes(lower);
    if (naming && kitTraceStands() && copied(value)) return true;
    for (const kitName of naming ? traceContextHeaders : [lower]) {
      const kitValue = kitHeaders.get(kitName);
      if (kitValue === undefined) continue;
      kitHeaders.delete(kitName);
      if (req.getHeader(kitName) === kitValue) req.removeHeader(kitName);
    }
    if (naming && held !== undefined) {
      const calls = held;
      held = undefined;
      for (const [method, heldName, heldValue] of calls) method.call(req, heldName, heldValue);
    }
    return false;
  };
  const wrap = (method: HeaderMethod | undefined): HeaderMethod | undefined =>
    typeof method === 'function'
      ? function (this: ClientRequest, name, value) {
          if (this !== req || !holdBack(name, value)) return method.call(this, name, value);
          held ??= [];
          held.push([method, name, value]);
          return req;
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
