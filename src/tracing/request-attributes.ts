import { noRequestFields, type RequestContext } from '../http/context.js';
import { redaction } from '../logging/redaction.js';
import { maskedText } from './masked-error.js';
import type { SpanAttributes } from './tracer.js';

/**
 * The fields `addRequestFields` put on a request, as attributes of its span (`tracing.requestFields`);
 * `undefined` when there are none. A `null` field is left out: a span attribute cannot hold one.
 * Registered secret values are masked in them as on log lines: a string holding one is masked in
 * place, a number that is one becomes `[REDACTED]`.
 */
export function requestFieldAttributes(context: RequestContext): SpanAttributes | undefined {
  if (context.fields === noRequestFields) return undefined;
  const attributes: Record<string, string | number | boolean> = {};
  const mask = !redaction.empty;
  for (const name of Object.keys(context.fields)) {
    const value = context.fields[name];
    if (value === null || value === undefined) continue;
    attributes[name] = mask ? maskedValue(value) : value;
  }
  return attributes;
}

function maskedValue(value: string | number | boolean): string | number | boolean {
  if (typeof value === 'string') return maskedText(value);
  if (typeof value !== 'number') return value;
  const text = String(value);
  const masked = maskedText(text);
  return masked === text ? value : masked;
}
