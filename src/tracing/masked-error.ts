import { redactedText, redaction } from '../logging/redaction.js';

/**
 * `text` with the secret values the kit masks in log lines masked (`runtime.redaction`): a span's
 * exception leaves the process for X-Ray or a collector, as a log line does. `text` itself when none
 * is in it, or none is registered (then it costs an emptiness check); `[REDACTED]` whole when it cannot be
 * masked in part: it never leaves unmasked.
 */
export function maskedText(text: string): string {
  return redaction.empty ? text : maskedAgainstRegistry(text);
}

/** {@link maskedText} once the registry is known to hold values. */
function maskedAgainstRegistry(text: string): string {
  try {
    const literal = JSON.stringify(text);
    const masked = redaction.mask(literal);
    return masked === literal ? text : (JSON.parse(masked) as string);
  } catch {
    return redactedText;
  }
}

/** The masked copy of each error that had a secret in its message, stack or fields. */
const masked = new WeakMap<Error, Error>();

/**
 * `error` as a span records it: itself when its message, stack and own text fields hold no secret
 * value, else a copy of the same class with them masked, its other own fields (`code`, which
 * OpenTelemetry writes as the exception's type) kept. The same error always gives the same copy:
 * X-Ray recognises an error a subsegment recorded when its parent records it too, by identity. An
 * error that cannot be read is recorded as `[REDACTED]`: it never leaves unmasked.
 *
 * @example
 * ```ts
 * span.recordException(maskedError(new Error(`login failed for ${token}`))); // message: 'login failed for [REDACTED]'
 * ```
 */
export function maskedError(error: Error): Error {
  if (redaction.empty) return error;
  const known = masked.get(error);
  if (known !== undefined) return known;
  let copy: Error;
  try {
    const fields: Record<string, unknown> = {};
    let changed = false;
    for (const key of ['name', 'message', 'stack', ...Object.keys(error)]) {
      const value: unknown = (error as unknown as Record<string, unknown>)[key];
      const text = typeof value === 'string' ? maskedAgainstRegistry(value) : value;
      changed ||= !Object.is(text, value);
      fields[key] = text;
    }
    if (!changed) return error;
    copy = Object.create(Object.getPrototypeOf(error) as object | null) as Error;
    for (const [key, value] of Object.entries(fields)) {
      Object.defineProperty(copy, key, { value, writable: true, configurable: true, enumerable: true });
    }
  } catch {
    copy = new Error(redactedText); // a getter that throws, a Proxy: nothing of it is read out
  }
  masked.set(error, copy);
  return copy;
}
