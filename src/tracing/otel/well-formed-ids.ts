import type { SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { hexTraceIdPattern, spanIdPattern } from '../id-patterns.js';

/** Whether `context` names a span in ids OTLP can carry: 32 and 16 hex digits. */
function wellFormed(context: SpanContext | undefined): boolean {
  return (
    context !== undefined &&
    typeof context.traceId === 'string' &&
    typeof context.spanId === 'string' &&
    hexTraceIdPattern.test(context.traceId) &&
    spanIdPattern.test(context.spanId)
  );
}

/**
 * `spans` as OTLP/JSON may carry them, as the kit's protobuf encoder writes them: a link to an id
 * that is not hex (a trace id in X-Ray form, `1-…`, given to OpenTelemetry's API) left out and
 * counted in `droppedLinksCount`, a malformed parent id left out (the span is a root), a span whose
 * own ids are malformed left out. A collector refuses the whole batch for one such id. `spans`
 * itself when every id is well formed, as they nearly always are.
 *
 * @example
 * ```ts
 * serializer.serializeRequest(withWellFormedIds(spans));
 * ```
 */
export function withWellFormedIds(spans: readonly ReadableSpan[]): readonly ReadableSpan[] {
  if (spans.every(isWellFormed)) return spans;
  const kept: ReadableSpan[] = [];
  for (const span of spans) {
    if (isWellFormed(span)) kept.push(span);
    else if (wellFormed(span.spanContext())) kept.push(mended(span));
  }
  return kept;
}

function isWellFormed(span: ReadableSpan): boolean {
  if (!wellFormed(span.spanContext())) return false;
  const parent = span.parentSpanContext;
  if (parent !== undefined && !spanIdPattern.test(parent.spanId)) return false;
  return span.links.every((link) => wellFormed(link.context));
}

/** `span` without its malformed links and parent: a view of it, the span itself unchanged. */
function mended(span: ReadableSpan): ReadableSpan {
  const links = span.links.filter((link) => wellFormed(link.context));
  const parent = span.parentSpanContext;
  return Object.create(span, {
    links: { value: links },
    droppedLinksCount: { value: span.droppedLinksCount + span.links.length - links.length },
    parentSpanContext: {
      value: parent !== undefined && spanIdPattern.test(parent.spanId) ? parent : undefined,
    },
  }) as ReadableSpan;
}
