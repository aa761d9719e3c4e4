import type { TracePropagator } from '../config/tracing.js';
import type { ReceivedPropagation } from '../http/context.js';
import { formatTraceHeader, formatTraceparent } from './trace-header.js';

/** A header that carries a trace to the callee: its name, lower case, and its value. */
export type PropagationHeader = readonly [name: string, value: string];

/** The span a callee is to continue, as the X-Ray SDK backend knows it. */
export interface PropagatedSpan {
  /** X-Ray form. */
  readonly traceId: string;
  /** The span (X-Ray: subsegment) the callee's span is a child of. */
  readonly spanId: string;
  readonly sampled: boolean;
  /** `Lineage=` as received, for X-Ray's header. */
  readonly lineage: string | undefined;
  /** The W3C headers the request brought, carried on as they came. */
  readonly received?: ReceivedPropagation | undefined;
}

/** The `X-Amzn-Trace-Id` that makes the receiver a child of `span`. */
export function xrayHeaderOf(span: Omit<PropagatedSpan, 'received'>): string | undefined {
  return formatTraceHeader({
    root: span.traceId,
    parent: span.spanId,
    sampled: span.sampled ? '1' : '0',
    lineage: span.lineage,
  });
}

/**
 * The headers that carry `span` to a callee under `propagators`, in their order: `traceparent` (and
 * the received `tracestate`) for `'tracecontext'`, the received `baggage` for `'baggage'`,
 * `X-Amzn-Trace-Id` for `'xray'`. The OpenTelemetry backend gets the same from OpenTelemetry's own
 * propagators, which also carry baggage the app set through `@opentelemetry/api`.
 */
export function propagationHeaders(
  propagators: readonly TracePropagator[],
  span: PropagatedSpan,
): PropagationHeader[] {
  const headers: PropagationHeader[] = [];
  for (const propagator of propagators) {
    if (propagator === 'xray') {
      const value = xrayHeaderOf(span);
      if (value !== undefined) headers.push(['x-amzn-trace-id', value]);
    } else if (propagator === 'tracecontext') {
      const value = formatTraceparent(span.traceId, span.spanId, span.sampled);
      if (value === undefined) continue;
      headers.push(['traceparent', value]);
      const tracestate = span.received?.tracestate;
      if (tracestate !== undefined) headers.push(['tracestate', tracestate]);
    } else {
      const baggage = span.received?.baggage;
      if (baggage !== undefined) headers.push(['baggage', baggage]);
    }
  }
  return headers;
}

/** The headers that name a trace: a caller that set one chose the trace its request belongs to. */
export const namingTraceHeaders: readonly string[] = ['x-amzn-trace-id', 'traceparent'];

/** The kit's headers a caller's trace header keeps off: those, and `tracestate`, which goes with a `traceparent`. */
export const traceContextHeaders: readonly string[] = [...namingTraceHeaders, 'tracestate'];

/**
 * Sets `headers` on an outgoing request through `set`, each unless the caller set it (`has`, given a
 * lower-case name). When the caller set a trace header (`X-Amzn-Trace-Id` or `traceparent`), the kit
 * adds none of its own: the request would name two traces, and the service called would follow the
 * kit's, not the caller's. `baggage` is added either way.
 */
export function addPropagationHeaders(
  headers: readonly PropagationHeader[],
  has: (name: string) => boolean,
  set: (name: string, value: string) => void,
): void {
  const callerTraced = namingTraceHeaders.some(has);
  for (const [name, value] of headers) {
    if (has(name) || (callerTraced && traceContextHeaders.includes(name))) continue;
    set(name, value);
  }
}
