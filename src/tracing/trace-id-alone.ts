import type { Logger } from 'pino';
import { hexTraceIdPattern, xrayTraceIdPattern } from './id-patterns.js';
import type { SpanOptions } from './tracer.js';

/** A trace id with nothing else: as `currentTraceId()` returns it (X-Ray form), or as OTLP carries it. */
function isTraceIdAlone(value: string): boolean {
  return xrayTraceIdPattern.test(value) || hexTraceIdPattern.test(value);
}

const wayToName =
  'pass the X-Amzn-Trace-Id value (Root=…;Parent=…, as tracer.currentTraceHeader() returns it) or a W3C traceparent';

/**
 * A check of {@link SpanOptions}' `parent` and `links` for a trace id alone (`1-5f84c7a0-…`, as
 * `tracer.currentTraceId()` returns it, or its 32-hex-digit form): it names no span, so the backends
 * skip it as they skip every value that is no trace header — silently, and the trace is not linked.
 * The check warns of the first such `parent` and the first such link, naming the value and the fix;
 * then it does nothing. Not an error: the values may come off the network, and the span's work must
 * run whatever its trace context.
 *
 * @example
 * ```ts
 * const check = traceIdAloneCheck(logger);
 * check({ links: ['1-5f84c7a0-b2c3d4e5f60718293a4b5c6d'] }); // one warning
 * ```
 */
export function traceIdAloneCheck(logger: Logger): (options: SpanOptions | undefined) => void {
  let parentWarned = false;
  let linksWarned = false;
  return (options) => {
    if (options === undefined || (parentWarned && linksWarned)) return;
    const { parent, links } = options;
    if (!parentWarned && typeof parent === 'string' && isTraceIdAlone(parent.trim())) {
      parentWarned = true;
      const value = parent.trim();
      logger.warn(
        { tracing: { option: 'parent', value } },
        `tracer.span(…, { parent: "${value}" }): a trace id alone names no span to continue, so it is ignored and the span continues the current trace; ${wayToName}, or "Root=" and the trace id in X-Ray form to start the span in that trace with no parent (logged once)`,
      );
    }
    if (linksWarned || links === undefined) return;
    for (const link of links) {
      if (typeof link !== 'string' || !isTraceIdAlone(link.trim())) continue;
      linksWarned = true;
      const value = link.trim();
      logger.warn(
        { tracing: { option: 'links', value } },
        `tracer.span(…, { links: ["${value}"] }): a trace id alone names no span, and a link needs one, so it is skipped; ${wayToName} (logged once)`,
      );
      return;
    }
  };
}
