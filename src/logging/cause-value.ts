import { redactedHeaders } from './logger.js';
import { redactedText } from './redaction.js';
import { describeThrown } from './serializers.js';
import { isPlainObject } from './trailing-arguments.js';

/** Levels of a cause followed down for `headers` to censor, at most (a cause is seldom deeper). */
const maxCopyDepth = 4;

function isCredentialHeader(name: unknown): boolean {
  return typeof name === 'string' && (redactedHeaders as readonly string[]).includes(name.toLowerCase());
}

/**
 * A cause that is no error, as `err.cause` writes it: as JSON would write it (a `Date` as its text,
 * an instance with its `toJSON` as that gives), but copied — an object's fields that can be read, a
 * class instance's too, an array's items — so that every `headers` and `rawHeaders` in it, a few
 * levels down, has its credential headers censored as a line's own `headers` (an object of names,
 * `[name, value]` pairs, a fetch `Headers`, Node's flat `rawHeaders`). When it still cannot be
 * written as JSON (a `toJSON` or getter that throws; not a cycle, which is written `"[Circular]"`),
 * its `serializationError` alone: pino would otherwise give up on the whole `err`.
 *
 * @example
 * ```ts
 * causeValue({ status: 401, headers: { Authorization: 'Bearer …' } });
 * // { status: 401, headers: { Authorization: '[REDACTED]' } }
 * ```
 */
export function causeValue(cause: object): unknown {
  try {
    const value = copied(cause, []);
    JSON.stringify(value, cycleTolerant());
    return value;
  } catch (error) {
    return { serializationError: describeThrown(error) };
  }
}

/**
 * `value` as JSON would write it, copied so that its `headers` and `rawHeaders` can be censored: an
 * object (a class instance too) as its readable own fields, an array item by item; one with a
 * `toJSON` (a `Date`, a `URL`, a `Buffer`) and anything past {@link maxCopyDepth} as it is; one of
 * `ancestors` (the objects it is inside) as `'[Circular]'`.
 */
function copied(value: unknown, ancestors: readonly object[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.includes(value)) return '[Circular]';
  if (
    ancestors.length >= maxCopyDepth ||
    ArrayBuffer.isView(value) ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    return value;
  const inside = [...ancestors, value];
  // Into a plain array: `map` would build an array subclass's result with its own constructor.
  if (Array.isArray(value)) return Array.from(value as unknown[], (item) => copied(item, inside));
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    try {
      const field = (value as Record<string, unknown>)[key];
      const name = key.toLowerCase();
      if (name === 'headers') copy[key] = censoredHeaders(field);
      else if (name === 'rawheaders') copy[key] = censoredRawHeaders(field);
      else copy[key] = copied(field, inside);
    } catch (error) {
      copy.serializationError = describeThrown(error);
    }
  }
  return copy;
}

/** Headers with the credentials' values censored, in whichever of their usual forms they come. */
function censoredHeaders(headers: unknown): unknown {
  if (typeof headers !== 'object' || headers === null) return headers;
  if (Array.isArray(headers)) {
    // `[name, value]` pairs, as `new Headers(pairs)` and undici take them.
    return headers.map((pair: unknown) =>
      Array.isArray(pair) && isCredentialHeader(pair[0]) ? [pair[0], redactedText] : pair,
    );
  }
  const entries = (headers as { entries?: unknown }).entries;
  const pairs: Iterable<[string, unknown]> =
    !isPlainObject(headers) && typeof entries === 'function'
      ? (entries.call(headers) as Iterable<[string, unknown]>) // a fetch `Headers`, a `Map`
      : Object.entries(headers);
  const copy: Record<string, unknown> = {};
  for (const [name, value] of pairs) copy[name] = isCredentialHeader(name) ? redactedText : value;
  return copy;
}

/** Node's `rawHeaders` (`[name, value, name, value, …]`) with the credentials' values censored. */
function censoredRawHeaders(raw: unknown): unknown {
  if (!Array.isArray(raw)) return raw;
  return raw.map((item: unknown, index) =>
    index % 2 === 1 && isCredentialHeader(raw[index - 1]) ? redactedText : item,
  );
}

/** A `JSON.stringify` replacer that writes a BigInt as text and an object seen before as a mark. */
function cycleTolerant(): (key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (typeof value === 'bigint') return String(value);
    if (typeof value !== 'object' || value === null) return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    return value;
  };
}
