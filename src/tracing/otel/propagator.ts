import {
  type Context,
  createContextKey,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
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
 * What the caller said about sampling: `'1'` sampled, `'0'` not, `'defer'` for `Sampled=?` or no
 * `Sampled=` (the callee decides). Read by {@link XrayParentBasedSampler}.
 */
export const samplingHintKey = createContextKey('apprunner-kit X-Ray sampling hint');

/** The caller's `Lineage=`, forwarded on every outgoing header of the request. */
export const lineageKey = createContextKey('apprunner-kit X-Ray lineage');

/** The hint {@link samplingHintKey} holds. */
export type SamplingHint = '1' | '0' | 'defer';

/**
 * The context a parsed header continues: the caller's span as the remote parent when it sent
 * `Parent=`, and the sampling hint and lineage. A header with `Root=` only has no parent span to
 * give OpenTelemetry: the server span keeps its trace id through `XrayIdGenerator.pin`.
 */
export function contextFromHeader(context: Context, header: TraceHeader): Context {
  let next = context.setValue(
    samplingHintKey,
    header.sampled === '1' || header.sampled === '0' ? header.sampled : 'defer',
  );
  if (header.lineage !== undefined) next = next.setValue(lineageKey, header.lineage);
  if (header.parent === undefined) return next;
  return trace.setSpanContext(next, {
    traceId: toHexTraceId(header.root)!,
    spanId: header.parent,
    traceFlags: header.sampled === '1' ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
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
