import { InvalidArgumentError } from '../errors.js';
import { processGlobal } from '../internal/process-global.js';
import { type SharedRedactionLog, sharedRedactionLog } from './shared-redaction.js';

/** What a masked value or path is replaced with. */
export const redactedText = '[REDACTED]';

/** Shortest value the registry accepts: masking a shorter one everywhere would destroy the logs. */
export const minimumRedactedLength = 6;

/**
 * Values no longer held (rotated out, evicted from the secrets cache) kept masked, at most: the
 * oldest beyond it stop being masked. An app that reads a new secret per tenant would otherwise grow
 * the registry for the life of the process.
 */
export const maxRetiredValues = 10_000;

/** Forms of values added since the last build that wait a second for the next: with more, it comes sooner. */
export const pendingForms = 16;

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
 * arrays, an `Error`'s message and stack, child-logger bindings — as it is, JSON-escaped, escaped
 * twice (a JSON document logged as a string), or percent-encoded (in a URL or a query). The secrets loader registers every value it resolves;
 * a value it no longer holds (rotated out, evicted) stays masked, up to 10,000 of them, the oldest
 * dropped first (see {@link RedactionRegistry.release}). The main thread's registry is shared with
 * worker threads: their kit loggers mask what it masks (not the other way round).
 *
 * @example
 * ```ts
 * runtime.redaction.addValue(apiKey);
 * runtime.logger.info(`calling with ${apiKey}`); // → "calling with [REDACTED]"
 * ```
 */
export class RedactionRegistry {
  /** Values added with {@link RedactionRegistry.addValue}: masked until removed. */
  readonly #pinned = new Set<string>();
  /** Values the secrets cache holds, with how many of its entries hold each. */
  readonly #held = new Map<string, number>();
  /** Values held once and no more, oldest first. */
  readonly #retired = new Set<string>();
  /** In a worker thread: the values the main thread's registry masks. */
  readonly #shared = new Set<string>();
  /** In the main thread: the log its values are shared with worker threads through. */
  readonly #sharing: SharedRedactionLog | undefined;
  /** In a worker thread: the main thread's log, read before each line. */
  readonly #sharedFrom: SharedRedactionLog | undefined;
  /** A value was removed: the matcher is built again at the next line. */
  #stale = false;
  /**
   * Finds where a form may start: an alternation of every form's first {@link minimumRedactedLength}
   * characters (a few KB however long the values: V8 refuses a literal some 32 KB long, and compiles
   * a large alternation slowly, into a large program).
   */
  #pattern: RegExp | undefined;
  /** The forms of the pattern by their first characters, longest first. */
  #byPrefix = new Map<string, string[]>();
  /**
   * Forms of values added since the pattern was built, found by a plain search until the next build:
   * a value per tenant must not cost a build of thousands of values per line.
   */
  #pending: string[] = [];
  /** When the pattern was built, and how long that took (`performance.now()` ms). */
  #builtAt = 0;
  #buildMs = 0;
  /** V8 refused the pattern: every form is searched plainly from then on. */
  #refused = false;

  /**
   * @internal The process's registry has a log of the main thread's values shared with worker
   * threads, written when `writesLog`, read otherwise; another registry none.
   */
  constructor(log?: SharedRedactionLog, writesLog = false) {
    this.#sharing = writesLog ? log : undefined;
    this.#sharedFrom = writesLog ? undefined : log;
  }

  /** Whether no value is registered: what masking costs nothing for. Unlike {@link size}, no count. */
  get empty(): boolean {
    this.#readShared();
    return (
      this.#pinned.size === 0 && this.#held.size === 0 && this.#retired.size === 0 && this.#shared.size === 0
    );
  }

  /** How many values are masked. */
  get size(): number {
    this.#readShared();
    let size = this.#pinned.size + this.#retired.size;
    for (const value of this.#held.keys()) if (!this.#pinned.has(value)) size++;
    for (const value of this.#shared) if (!this.#local(value)) size++;
    return size;
  }

  /**
   * Masks `value` in every line from now on.
   *
   * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) when `value` is not a string of at least
   * {@link minimumRedactedLength} characters.
   */
  addValue(value: string): void {
    checkValue(value, 'redaction.addValue()');
    if (this.#pinned.has(value)) return;
    this.#pinned.add(value);
    if (!this.#retired.delete(value) && !this.#held.has(value)) this.#added(value);
  }

  /** Stops masking `value`, however it was registered. */
  removeValue(value: string): void {
    const known = this.has(value);
    const local = this.#local(value);
    this.#pinned.delete(value);
    this.#held.delete(value);
    this.#retired.delete(value);
    this.#shared.delete(value);
    if (known) this.#stale = true;
    if (local) this.#sharing?.append(value, false);
  }

  /**
   * Masks `value` for one more holder (the secrets cache: an entry whose value it is), until each
   * holder {@link RedactionRegistry.release | released} it. For the kit's secrets cache; an app uses
   * {@link RedactionRegistry.addValue}.
   *
   * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) as {@link RedactionRegistry.addValue}.
   */
  hold(value: string): void {
    checkValue(value, 'redaction.hold()');
    const holders = this.#held.get(value);
    this.#held.set(value, (holders ?? 0) + 1);
    if (holders === undefined && !this.#retired.delete(value) && !this.#pinned.has(value)) this.#added(value);
  }

  /**
   * One holder of `value` let it go. Once none holds it, it stays masked as a retired value: the
   * 10,000 most recently retired are. Returns how many older ones stopped being
   * masked to make room.
   */
  release(value: string): number {
    const holders = this.#held.get(value);
    if (holders === undefined) return 0;
    if (holders > 1) {
      this.#held.set(value, holders - 1);
      return 0;
    }
    this.#held.delete(value);
    if (this.#pinned.has(value)) return 0;
    this.#retired.add(value);
    let dropped = 0;
    for (const oldest of this.#retired) {
      if (this.#retired.size <= maxRetiredValues) break;
      this.#retired.delete(oldest);
      this.#sharing?.append(oldest, false);
      dropped++;
    }
    // Masked until the next build: masking a value a little longer harms nothing.
    return dropped;
  }

  /** True when `value` is masked. */
  has(value: string): boolean {
    this.#readShared();
    return this.#local(value) || this.#shared.has(value);
  }

  /** Registered in this registry (not shared by the main thread's). */
  #local(value: string): boolean {
    return this.#pinned.has(value) || this.#held.has(value) || this.#retired.has(value);
  }

  /** In a worker thread: takes the main thread's changes since the last line. */
  #readShared(): void {
    this.#sharedFrom?.readNew(this.#takeShared, this.#restartShared);
  }

  /** One change of the main thread's: built once for a whole batch, at the next line. */
  readonly #takeShared = (value: string, masked: boolean): void => {
    if (masked) {
      if (!this.#shared.has(value)) {
        this.#shared.add(value);
        if (!this.#local(value)) this.#stale = true;
      }
    } else if (this.#shared.delete(value) && !this.#local(value)) this.#stale = true;
  };

  /** The main thread rewrote its log from the start: what it masks now comes again, whole. */
  readonly #restartShared = (): void => {
    if (this.#shared.size === 0) return;
    this.#shared.clear();
    this.#stale = true;
  };

  /**
   * Masks every registered value inside the JSON string literals of `line`, and a value that is a
   * whole JSON number of it (an account number logged as a number) by the string `"[REDACTED]"`,
   * leaving the line valid JSON. Costs one regular-expression test per line when a value is
   * registered (and a plain search for each value added since the matcher was last built: the next
   * build comes within a second, sooner past 16 forms, yet never takes more than a twentieth of the
   * time), nothing otherwise. Where two values overlap, the whole stretch they cover is masked.
   */
  mask(line: string): string {
    this.#readShared();
    if (this.#stale || (this.#pending.length > 0 && !this.#refused && this.#buildDue())) this.#build();
    let matched = false;
    const pattern = this.#pattern;
    if (pattern !== undefined) {
      try {
        pattern.lastIndex = 0;
        matched = pattern.test(line);
      } catch {
        // V8 refused to compile the pattern after all (it compiles again as it tiers up): never a
        // throw from a log call, whose message would be the pattern, secrets included.
        this.#searchEveryForm();
        return this.mask(line);
      }
    }
    if (!matched && !includesAny(line, this.#pending)) return line;
    return this.#maskFound(line, matched);
  }

  /** `line` with every form found in it masked; `fromPattern` when the pattern matched it (its `lastIndex` after the first match). */
  #maskFound(line: string, fromPattern: boolean): string {
    const inString = stringSpans(line);
    /** Triples: where a form starts, where it ends, and 1 for a whole number outside strings. */
    const found: number[] = [];
    /** Records `form` at `at` when it is masked there: inside a string, or a whole number outside. */
    const consider = (at: number, form: string): boolean => {
      if (isInside(inString, at)) {
        // Both ends on an escape unit's edge: a form ending in `\` must not take the `\` of a `\"`.
        if (!startsEscapeUnit(line, at) || !startsEscapeUnit(line, at + form.length)) return false;
        found.push(at, at + form.length, 0);
        return true;
      }
      if (!isWholeNumber(line, form, at)) return false;
      found.push(at, at + form.length, 1);
      return true;
    };
    const pattern = this.#pattern;
    if (fromPattern && pattern !== undefined) {
      // Every place a form may start, overlapping ones included: each match is a prefix's length.
      for (let at = pattern.lastIndex - minimumRedactedLength; ; ) {
        // The longest form that is masked here: a longer one that is not (`123456,7` where only
        // `123456` is a whole number) must not hide a shorter one that is.
        const forms = this.#byPrefix.get(line.slice(at, at + minimumRedactedLength));
        if (forms !== undefined) {
          for (const form of forms) if (line.startsWith(form, at) && consider(at, form)) break;
        }
        pattern.lastIndex = at + 1;
        if (!pattern.test(line)) break;
        at = pattern.lastIndex - minimumRedactedLength;
      }
    }
    for (const form of this.#pending) {
      for (let at = line.indexOf(form); at !== -1; at = line.indexOf(form, at + 1)) consider(at, form);
    }
    return maskStretches(line, found, this.#pending.length > 0);
  }

  /**
   * A value registered here: its forms are searched plainly until the next build, which comes soon
   * after; the main thread's registry shares it with its workers.
   */
  #added(value: string): void {
    this.#sharing?.append(value, true);
    for (const form of formsOf(value)) if (!this.#pending.includes(form)) this.#pending.push(form);
  }

  /**
   * The pending forms go into the pattern once the last build is twenty times its own duration old
   * (a build of 10,000 values, some 80 ms, at most every 1.6 s: a twentieth of the time at most),
   * and a second old unless more than {@link pendingForms} forms wait.
   */
  #buildDue(): boolean {
    const since = performance.now() - this.#builtAt;
    return since >= 20 * this.#buildMs && (since >= 1_000 || this.#pending.length > pendingForms);
  }

  /** Every form found by a plain search: slower, and the pattern is not tried again. */
  #searchEveryForm(): void {
    const forms = new Set<string>(this.#pending);
    for (const same of this.#byPrefix.values()) for (const form of same) forms.add(form);
    this.#refused = true;
    this.#pattern = undefined;
    this.#byPrefix = new Map();
    this.#pending = [...forms];
  }

  #build(): void {
    const started = performance.now();
    this.#stale = false;
    const forms = new Set<string>();
    for (const values of [this.#pinned, this.#held.keys(), this.#retired, this.#shared])
      for (const value of values) for (const form of formsOf(value)) forms.add(form);
    if (this.#refused) {
      this.#pending = [...forms];
      return;
    }
    const byPrefix = new Map<string, string[]>();
    for (const form of [...forms].sort((a, b) => b.length - a.length)) {
      const prefix = form.slice(0, minimumRedactedLength);
      const same = byPrefix.get(prefix);
      if (same === undefined) byPrefix.set(prefix, [form]);
      else same.push(form);
    }
    this.#byPrefix = byPrefix;
    this.#pending = [];
    try {
      const pattern =
        byPrefix.size === 0 ? undefined : new RegExp([...byPrefix.keys()].map(escapeRegExp).join('|'), 'g');
      // V8 compiles a pattern on its first use, for one-byte and two-byte text apart: a refusal
      // comes from there, not from the constructor.
      pattern?.test('');
      pattern?.test('\u0100');
      this.#pattern = pattern;
      this.#builtAt = performance.now();
      this.#buildMs = this.#builtAt - started;
    } catch {
      this.#searchEveryForm();
    }
  }
}

/** Whether `line` holds any of `forms`. */
function includesAny(line: string, forms: readonly string[]): boolean {
  for (const form of forms) if (line.includes(form)) return true;
  return false;
}

/**
 * A value as it is, JSON-escaped once, and twice (a JSON document logged as a string), and
 * percent-encoded as in a URL's path or userinfo (`encodeURIComponent`) and in a query string or a
 * form (`URLSearchParams`, a space as `+`): a generated password's punctuation, put in a connection
 * URL or a query, is logged encoded (`p%40ss%2Fword`). The encoded forms hold no character JSON
 * escapes.
 */
function formsOf(value: string): string[] {
  const forms = [value];
  const once = jsonEscaped(value);
  if (once !== value) {
    forms.push(once);
    const twice = jsonEscaped(once);
    if (twice !== once) forms.push(twice);
  }
  for (const encoded of [
    uriComponentEncoded(value),
    new URLSearchParams([['', value]]).toString().slice(1),
  ]) {
    if (encoded !== undefined && encoded !== value && !forms.includes(encoded)) forms.push(encoded);
  }
  return forms;
}

/** `value` as `encodeURIComponent` writes it; undefined for a lone surrogate, which it refuses. */
function uriComponentEncoded(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * `line` with the stretches `found` masked: triples of start, end and 1 for a whole number (masked
 * by a JSON string). Overlapping stretches are masked as one; `unsorted` when they may be out of
 * order (found by more than one search).
 */
function maskStretches(line: string, found: number[], unsorted: boolean): string {
  let order = Array.from({ length: found.length / 3 }, (_, i) => i * 3);
  if (unsorted) order = order.sort((a, b) => found[a]! - found[b]! || found[b + 1]! - found[a + 1]!);
  let masked = '';
  /** The end of what is masked so far. */
  let from = 0;
  for (const i of order) {
    const at = found[i]!;
    const end = found[i + 1]!;
    if (at < from) {
      // Inside what is masked already: a value that overlaps it masks on to its own end.
      if (found[i + 2] === 0 && end > from) from = end;
      continue;
    }
    masked += line.slice(from, at) + (found[i + 2] === 1 ? `"${redactedText}"` : redactedText);
    from = end;
  }
  return masked + line.slice(from);
}

/** Refuses what cannot be masked without masking ordinary text all over the logs. */
function checkValue(value: unknown, call: string): void {
  if (typeof value !== 'string' || value.length < minimumRedactedLength) {
    throw new InvalidArgumentError(
      `${call} needs a string of at least ${minimumRedactedLength} characters; received ${
        typeof value === 'string' ? `one of ${value.length}` : typeof value
      }. Shorter values would mask ordinary text all over the logs.`,
    );
  }
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
export const redaction: RedactionRegistry = processGlobal('redaction.v1', () => {
  const shared = sharedRedactionLog();
  return new RedactionRegistry(shared?.log, shared?.writer);
});
