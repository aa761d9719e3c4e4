import { ConfigurationError } from '../errors.js';

/** Renders a received value for an error message, short and unambiguous. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Throws the configuration error for `field`, naming the value received and what is accepted. */
export function invalid(field: string, value: unknown, accepted: string): never {
  throw new ConfigurationError(
    field,
    `Invalid ${field}: received ${describeValue(value)}; expected ${accepted}.`,
  );
}

/** `parse(value)`, or `undefined` when the option is not given. */
export function optional<T>(value: unknown, parse: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

/** An integer option in `[min, max]`; a string is refused (options take numbers). */
export function parseInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(field, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

/** An integer in `[min, max]` written in decimal digits, as environment variables carry it. */
export function parseIntegerText(field: string, raw: string, min: number, max: number): number {
  const n = /^\s*\d{1,16}\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) invalid(field, raw, `an integer from ${min} to ${max}`);
  return n;
}

/** A duration in milliseconds: a non-negative integer, at most `max`. */
export function parseDuration(field: string, value: unknown, max = 3_600_000): number {
  return parseInteger(field, value, 0, max);
}

/** Whether `value` is a name: a non-empty string without control characters, at most `maxLength` long. */
export function isName(value: unknown, maxLength = 256): value is string {
  return (
    typeof value === 'string' && value.trim() !== '' && value.length <= maxLength && !/\p{Cc}/u.test(value)
  );
}

/** What {@link isName} accepts, as error messages say it. */
export function nameAccepted(maxLength = 256): string {
  return `a non-empty string of at most ${maxLength} characters without control characters`;
}

/** A name ({@link isName}), trimmed. */
export function parseName(field: string, value: unknown, maxLength = 256): string {
  if (!isName(value, maxLength)) invalid(field, value, nameAccepted(maxLength));
  return value.trim();
}

/** One of a fixed set of strings. */
export function parseEnum<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    invalid(field, value, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  return value as T;
}

/** A boolean option. */
export function parseBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') invalid(field, value, 'true or false');
  return value;
}

/** A plain object of options, whose keys must all be in `known`. */
export function parseSection(
  field: string,
  value: unknown,
  known: readonly string[],
): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(field, value, 'an object');
  const section = value as Record<string, unknown>;
  for (const key of Object.keys(section)) {
    if (!known.includes(key)) {
      const where = field === 'options' ? key : `${field}.${key}`;
      throw new ConfigurationError(
        where,
        `Unknown option ${where}. Accepted ${field === 'options' ? 'options' : `keys of ${field}`}: ${known.join(', ')}.`,
      );
    }
  }
  return section;
}

/** Recursively freezes plain objects and arrays; streams, functions and class instances are left alone. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null || Array.isArray(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
