import { redaction } from '../logging/redaction.js';

/**
 * `text` with the secret values the kit masks in log lines masked (`runtime.redaction`): a span's
 * exception leaves the process for X-Ray or a collector, as a log line does. `text` itself when none
 * is in it, or none is registered (then it costs a size check).
 */
export function maskedText(text: string): string {
  if (redaction.size === 0) return text;
  const literal = JSON.stringify(text);
  const masked = redaction.mask(literal);
  return masked === literal ? text : (JSON.parse(masked) as string);
}

/** The masked copy of each error that had a secret in its message or stack. */
const masked = new WeakMap<Error, Error>();

/**
 * `error` as a span records it: itself when its message and stack hold no secret value, else a copy
 * of the same class and name with them masked. The same error always gives the same copy: X-Ray
 * recognises an error a subsegment recorded when its parent records it too, by identity.
 *
 * @example
 * ```ts
 * span.recordException(maskedError(new Error(`login failed for ${token}`))); // message: 'login failed for [REDACTED]'
 * ```
 */
export function maskedError(error: Error): Error {
  if (redaction.size === 0) return error;
  const known = masked.get(error);
  if (known !== undefined) return known;
  let message: string;
  let stack: string | undefined;
  try {
    message = maskedText(String(error.message));
    stack = typeof error.stack === 'string' ? maskedText(error.stack) : undefined;
    if (message === error.message && stack === error.stack) return error;
  } catch {
    return error; // a getter that throws: the recorders read it defensively themselves
  }
  const copy = Object.create(Object.getPrototypeOf(error) as object | null) as Error;
  Object.defineProperties(copy, {
    name: { value: error.name, writable: true, configurable: true },
    message: { value: message, writable: true, configurable: true },
    stack: { value: stack, writable: true, configurable: true },
  });
  masked.set(error, copy);
  return copy;
}
