import { invalid } from './parse.js';

const resourceKeyPattern = /^[\w.\-/]{1,255}$/;
const maxLength = 4096;

/** `OTEL_RESOURCE_ATTRIBUTES` as read: the attributes, and what could not be read. */
export interface ResourceAttributesText {
  readonly attributes: Readonly<Record<string, string>>;
  /** The pairs left out (the start of the whole text, when it is too long). */
  readonly malformed: readonly string[];
  /** Longer than 4096 characters: nothing was read. */
  readonly tooLong: boolean;
}

/**
 * `key1=value1,key2=value2` as the OpenTelemetry spec writes `OTEL_RESOURCE_ATTRIBUTES`: values are
 * percent-decoded; keys are letters, digits, `_`, `.`, `-` and `/`. A pair that cannot be read is
 * left out, as the spec has SDKs do: the service's name is read from it by `createLogger` too, which
 * must not fail for a variable it only takes a name from. Never throws.
 *
 * @example
 * ```ts
 * readResourceAttributes('team=notes%2Capi,a=50%');
 * // { attributes: { team: 'notes,api' }, malformed: ['a=50%'], tooLong: false }
 * ```
 */
export function readResourceAttributes(raw: string): ResourceAttributesText {
  const attributes: Record<string, string> = {};
  if (raw.length > maxLength) return { attributes, malformed: [`${raw.slice(0, 40)}…`], tooLong: true };
  const malformed: string[] = [];
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq === -1 ? '' : pair.slice(0, eq).trim();
    let value: string | undefined;
    try {
      value = eq === -1 ? undefined : decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      value = undefined;
    }
    if (!resourceKeyPattern.test(key) || value === undefined || /\p{Cc}/u.test(value)) malformed.push(pair);
    else attributes[key] = value;
  }
  return { attributes, malformed, tooLong: false };
}

/**
 * The attributes of `text`, refusing one that could not be read: where OpenTelemetry traces, and
 * they describe every span.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) naming `name` and the first pair left out.
 */
export function requireResourceAttributes(
  text: ResourceAttributesText,
  name: string,
): Readonly<Record<string, string>> {
  const [first] = text.malformed;
  if (first === undefined) return text.attributes;
  return invalid(
    name,
    first,
    text.tooLong
      ? `at most ${maxLength} characters`
      : 'comma-separated key=value pairs with percent-encoded values, such as "team=notes"',
  );
}
