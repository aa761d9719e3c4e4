import { InvalidArgumentError } from '../errors.js';
import { processGlobal } from '../internal/process-global.js';

/** What a masked value or path is replaced with. */
export const redactedText = '[REDACTED]';

/** Shortest value the registry accepts: masking a shorter one everywhere would destroy the logs. */
export const minimumRedactedLength = 6;

/**
 * Forms longer than this are found by a plain search, not by the pattern: V8 refuses an alternation
 * of literals some 32 KB long ("Regular expression too large", an error whose message is the pattern,
 * secrets included), and a secret may be 64 KB.
 */
const longestPatternForm = 1024;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `value` as it appears inside a JSON string, escaped once. */
function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * The process-wide registry of secret values that must never reach a log line. The kit's loggers
 * mask every registered value wherever it appears in a line: message, fields, nested objects,
 * arrays, an `Error`'s message and stack, child-logger bindings — as it is, JSON-escaped, or escaped
 * twice (a JSON document logged as a string). The secrets loader registers every value it resolves.
 *
 * @example
 * ```ts
 * runtime.redaction.addValue(apiKey);
 * runtime.logger.info(`calling with ${apiKey}`); // → "calling with [REDACTED]"
 * ```
 */
export class RedactionRegistry {
  readonly #values = new Set<string>();
  #pattern: RegExp | undefined;
  /** Forms too long for the pattern, longest first. */
  #literals: string[] = [];
  /** Every form, longest first. */
  #forms: string[] = [];

  /** How many values are registered. */
  get size(): number {
    return this.#values.size;
  }

  /**
   * Masks `value` in every line from now on.
   *
   * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) when `value` is not a string of at least
   * {@link minimumRedactedLength} characters.
   */
  addValue(value: string): void {
    if (typeof value !== 'string' || value.length < minimumRedactedLength) {
      throw new InvalidArgumentError(
        `redaction.addValue() needs a string of at least ${minimumRedactedLength} characters; received ${
          typeof value === 'string' ? `one of ${value.length}` : typeof value
        }. Shorter values would mask ordinary text all over the logs.`,
      );
    }
    if (this.#values.has(value)) return;
    this.#values.add(value);
    this.#compile();
  }

  /** Stops masking `value` (a rotated-out secret). */
  removeValue(value: string): void {
    if (this.#values.delete(value)) this.#compile();
  }

  /** True when `value` is registered. */
  has(value: string): boolean {
    return this.#values.has(value);
  }

  /**
   * Masks every registered value inside the JSON string literals of `line`, and a value that is a
   * whole JSON number of it (an account number logged as a number) by the string `"[REDACTED]"`,
   * leaving the line valid JSON. Costs one regular-expression test per line when a value is
   * registered (and a search for each form — as it is, escaped, escaped twice — of a value over
   * 1 KB), nothing otherwise.
   */
  mask(line: string): string {
    // The long forms first: a shorter value inside a longer one (a JSON secret's key) masked first
    // would leave the rest of the longer one unmatched, and written.
    let masked = line;
    for (const form of this.#literals) if (masked.includes(form)) masked = maskLiteral(masked, form);
    const pattern = this.#pattern;
    if (pattern === undefined) return masked;
    try {
      pattern.lastIndex = 0;
      if (!pattern.test(masked)) return masked;
    } catch {
      // V8 refused to compile the pattern after all (it compiles again as it tiers up): never a
      // throw from a log call, whose message would be the pattern, secrets included.
      this.#searchEveryForm();
      return this.mask(line);
    }
    const inString = stringSpans(masked);
    pattern.lastIndex = 0;
    return masked.replace(pattern, (match: string, offset: number) => {
      if (isInside(inString, offset)) return startsEscapeUnit(masked, offset) ? redactedText : match;
      return isWholeNumber(masked, match, offset) ? `"${redactedText}"` : match;
    });
  }

  /** Every form found by a plain search: slower, and a value logged as a bare number is left as it is. */
  #searchEveryForm(): void {
    this.#pattern = undefined;
    this.#literals = this.#forms;
  }

  #compile(): void {
    const forms = new Set<string>();
    for (const value of this.#values) {
      const once = jsonEscaped(value);
      forms.add(value);
      forms.add(once);
      forms.add(jsonEscaped(once));
    }
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    const short = sorted.filter((form) => form.length <= longestPatternForm);
    this.#forms = sorted;
    this.#literals = sorted.filter((form) => form.length > longestPatternForm);
    try {
      const pattern = short.length === 0 ? undefined : new RegExp(short.map(escapeRegExp).join('|'), 'g');
      // V8 compiles a pattern on its first use, for one-byte and two-byte text apart: "too large"
      // comes from there, not from the constructor. Never seen with forms of 1 KB (3.7 MB of them).
      pattern?.test('');
      pattern?.test('\u0100');
      this.#pattern = pattern;
    } catch {
      this.#searchEveryForm();
    }
  }
}

/** `line` with each occurrence of `form` inside a string literal masked (no number is that long). */
function maskLiteral(line: string, form: string): string {
  const inString = stringSpans(line);
  let masked = '';
  let from = 0;
  for (let at = line.indexOf(form); at !== -1; at = line.indexOf(form, at + form.length)) {
    if (!isInside(inString, at) || !startsEscapeUnit(line, at)) continue;
    masked += line.slice(from, at) + redactedText;
    from = at + form.length;
  }
  return masked + line.slice(from);
}

/** Start (inclusive) and end (exclusive) offsets of each string literal's content in a JSON line. */
function stringSpans(line: string): number[] {
  const spans: number[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (start === -1) {
      if (c === 34 /* " */) start = i + 1;
    } else if (c === 92 /* \ */) {
      i++;
    } else if (c === 34) {
      spans.push(start, i);
      start = -1;
    }
  }
  return spans;
}

function isInside(spans: number[], offset: number): boolean {
  for (let i = 0; i < spans.length; i += 2) {
    if (offset < spans[i]!) return false;
    if (offset < spans[i + 1]!) return true;
  }
  return false;
}

/** `match`, at `offset` outside any string of `line`, is a whole JSON number (a value, not part of one). */
function isWholeNumber(line: string, match: string, offset: number): boolean {
  if (!/^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(match)) return false;
  const before = line.charCodeAt(offset - 1);
  const after = line.charCodeAt(offset + match.length);
  // After `:`, `,` or `[`; before `,`, `}` or `]` (pino writes no spaces between tokens).
  return (before === 58 || before === 44 || before === 91) && (after === 44 || after === 125 || after === 93);
}

/** False when `offset` falls inside an escape sequence (after an odd run of backslashes). */
function startsEscapeUnit(line: string, offset: number): boolean {
  let backslashes = 0;
  for (let i = offset - 1; i >= 0 && line.charCodeAt(i) === 92; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** The registry shared by every copy of the kit in the process. */
export const redaction: RedactionRegistry = processGlobal('redaction.v1', () => new RedactionRegistry());
