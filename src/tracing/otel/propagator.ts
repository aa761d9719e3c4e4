import {
  type Context,
  createContextKey,
  createTraceState,
  defaultTextMapSetter,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { TracePropagator } from '../../config/tracing.js';
import type { PropagationHeader } from '../propagation.js';
import {
  formatTraceHeader,
  fromHexTraceId,
  parseTraceHeader,
  type TraceHeader,
  toHexTraceId,
} from '../trace-header.js';

/** The header, lower case as Node.js and undici carry it. */
export const traceHeaderName = 'x-amzn-trace-id';

/**
 * What the caller said about sampling, as a {@link SamplingHintValue}. Read by
 * {@link XrayParentBasedSampler}.
 */
export const samplingHintKey = createContextKey('apprunner-kit X-Ray sampling hint');

/** The caller's `Lineage=`, forwarded on every outgoing header of the request. */
export const lineageKey = createContextKey('apprunner-kit X-Ray lineage');

/** What a caller said: `'1'` sampled, `'0'` not, `'defer'` for `Sampled=?` or no `Sampled=` (the callee decides). */
export type SamplingHint = '1' | '0' | 'defer';

/**
 * What {@link samplingHintKey} holds: the hint, and the parent span of the header it came with
 * (`undefined`: a header with no `Parent=`). The sampler follows it only while that is still the
 * context's parent: when another header (a `traceparent` extracted after it) replaced the parent,
 * the hint describes a trace that is no longer continued.
 */
export interface SamplingHintValue {
  readonly hint: SamplingHint;
  readonly parent: string | undefined;
}

/**
 * The context a parsed header (an `X-Amzn-Trace-Id` or a `traceparent`) continues: the caller's span
 * as the remote parent when it named one, with the received `tracestate`, and the sampling hint and
 * lineage. A header with `Root=` only has no parent span to give OpenTelemetry: the server span
 * keeps its trace id through `XrayIdGenerator.pin`.
 */
export function contextFromHeader(context: Context, header: TraceHeader, tracestate?: string): Context {
  const hint: SamplingHintValue = {
    hint: header.sampled === '1' || header.sampled === '0' ? header.sampled : 'defer',
    parent: header.parent,
  };
  let next = context.setValue(samplingHintKey, hint);
  if (header.lineage !== undefined) next = next.setValue(lineageKey, header.lineage);
  if (header.parent === undefined) return next;
  return trace.setSpanContext(next, {
    traceId: toHexTraceId(header.root)!,
    spanId: header.parent,
    traceFlags: header.sampled === '1' ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
    ...(tracestate === undefined ? {} : { traceState: createTraceState(tracestate) }),
  });
}

/** The `X-Amzn-Trace-Id` that makes the receiver a child of `context`'s span; `undefined` without one. */
export function headerFor(context: Context): string | undefined {
  const spanContext = trace.getSpanContext(context);
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  const root = fromHexTraceId(spanContext.traceId);
  if (root === undefined) return undefined;
  const lineage = context.getValue(lineageKey);
  return formatTraceHeader({
    root,
    parent: spanContext.spanId,
    sampled: (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '1' : '0',
    lineage: typeof lineage === 'string' ? lineage : undefined,
  });
}

/**
 * The `X-Amzn-Trace-Id` propagator, registered as OpenTelemetry's global propagator while the kit
 * traces, so `propagation.inject()` in your code writes X-Ray headers. Extraction is as lenient as
 * `parseTraceHeader` (any case, spaces, extra `;`, unknown keys) and as strict about ids: a
 * malformed header is ignored (a new trace starts), a malformed field dropped, never forwarded.
 */
export class XrayPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const header = headerFor(context);
    if (header !== undefined) setter.set(carrier, traceHeaderName, header);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, traceHeaderName);
    const header = parseTraceHeader(Array.isArray(raw) ? raw[0] : raw);
    return header === undefined ? context : contextFromHeader(context, header);
  }

  fields(): string[] {
    return [traceHeaderName];
  }
}

/**
 * OpenTelemetry's propagator for `propagators`, in their order: W3C Trace Context, W3C Baggage and
 * the kit's X-Ray propagator. Registered as the global propagator while the kit traces, and used
 * by the kit's own client instrumentation, so both write the same headers.
 */
export function createPropagator(propagators: readonly TracePropagator[]): TextMapPropagator {
  return new CompositePropagator({
    propagators: propagators.map((name) =>
      name === 'xray'
        ? new XrayPropagator()
        : name === 'tracecontext'
          ? new W3CTraceContextPropagator()
          : new W3CBaggagePropagator(),
    ),
  });
}

/** The headers `propagator` writes for `context`, lower-case names. */
export function injectedHeaders(propagator: TextMapPropagator, context: Context): PropagationHeader[] {
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, defaultTextMapSetter);
  return Object.keys(carrier).map((name) => [name.toLowerCase(), carrier[name]!] as const);
}
