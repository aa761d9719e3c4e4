import { noRequestFields, type RequestContext } from '../http/context.js';
import type { SpanAttributes } from './tracer.js';

/**
 * The fields `addRequestFields` put on a request, as attributes of its span (`tracing.requestFields`);
 * `undefined` when there are none. A `null` field is left out: a span attribute cannot hold one.
 */
export function requestFieldAttributes(context: RequestContext): SpanAttributes | undefined {
  if (context.fields === noRequestFields) return undefined;
  const attributes: Record<string, string | number | boolean> = {};
  for (const name of Object.keys(context.fields)) {
    const value = context.fields[name];
    if (value !== null && value !== undefined) attributes[name] = value;
  }
  return attributes;
}
