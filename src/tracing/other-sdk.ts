import {
  getRequestContext,
  type RequestContext,
  type SpanIdReader,
  setTracingState,
  tracingState,
} from '../http/context.js';
import type { RequestScope } from '../http/request-scope.js';
import { type ActiveSpanIds, activeSpanIds, globalPropagationHeaders } from './global-otel.js';
import { xrayHeaderOf } from './propagation.js';
import { fromHexTraceId } from './trace-header.js';
import { offTracer, outgoingHeaders, type RuntimeTracer } from './tracer.js';

/** What the kit keeps of a request whose span another SDK started. */
interface OtherSdkRequest {
  /** Its trace id, hex, as OpenTelemetry holds it. */
  readonly traceId: string;
  /** The id of its span (the other SDK's server span), when sampled. */
  readonly spanId: string | undefined;
}

/** Where the kit keeps its state of such requests (the owner of the tracing slot). */
const owner = Object.freeze({ name: 'another SDK' });

const spanIds: SpanIdReader = {
  current: (context: RequestContext) => {
    const request = tracingState(context, owner) as OtherSdkRequest | undefined;
    const active = activeSpanIds();
    // A span of another trace (a root span started inside the request) is not in the line's trace.
    return request !== undefined && active?.traceId === request.traceId && active.sampled
      ? active.spanId
      : undefined;
  },
  ofRequest: (context: RequestContext) =>
    (tracingState(context, owner) as OtherSdkRequest | undefined)?.spanId,
};

/**
 * Gives the log lines of each request the trace and span ids of the span another SDK (an APM agent
 * that registered OpenTelemetry's global tracer provider and context manager) made for it, when the
 * kit does not trace: `traceId` in X-Ray form, as the kit writes its own, and `spanId` of the span
 * current where the line is written, when sampled. A request the other SDK did not trace keeps the
 * trace id of its header, if any. Returns the function that removes the hook.
 */
export function followOtherSdk(scope: RequestScope): () => void {
  return scope.onStart((context) => {
    const found = activeSpan();
    if (found === undefined) return;
    const { active, traceId } = found;
    // A span the other SDK does not record is in no trace anyone sees: the header's trace is.
    if (!active.sampled && context.traceId !== undefined) return;
    context.traceId = traceId;
    const state: OtherSdkRequest = {
      traceId: active.traceId,
      spanId: active.sampled ? active.spanId : undefined,
    };
    setTracingState(context, owner, state, spanIds);
  });
}

/** The span active here, another SDK's, with its trace id in X-Ray form; `undefined` when none. */
function activeSpan(): { active: ActiveSpanIds; traceId: string } | undefined {
  const active = activeSpanIds();
  const traceId = active === undefined ? undefined : fromHexTraceId(active.traceId);
  return active === undefined || traceId === undefined ? undefined : { active, traceId };
}

/**
 * `runtime.tracer` when another SDK traces and the kit does not: it makes no span (`span()` runs the
 * function, `setAttributes()` does nothing), and tells the other SDK's current span: its trace id in
 * X-Ray form, the `X-Amzn-Trace-Id` naming it, and the headers the other SDK's propagator writes
 * for it beside the request id.
 */
export function otherSdkTracer(requestIdHeader: string | undefined): RuntimeTracer {
  return Object.freeze({
    ...offTracer(requestIdHeader),
    currentTraceId: () => activeSpan()?.traceId ?? getRequestContext()?.traceId,
    currentTraceHeader: () => {
      const found = activeSpan();
      if (found === undefined) return undefined;
      const { active, traceId } = found;
      return xrayHeaderOf({ traceId, spanId: active.spanId, sampled: active.sampled, lineage: undefined });
    },
    currentHeaders: () => outgoingHeaders(globalPropagationHeaders(), requestIdHeader),
  });
}
