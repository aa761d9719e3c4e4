import { type Logger, pino } from 'pino';
import { currentSpanId, getRequestContext } from '../http/context.js';
import { describeThrown, serializeError } from './serializers.js';

/**
 * Where an error of a trailing argument goes: pino's error key, which the kit leaves at its
 * default, so that the kit's `err` serializer writes it as `logger.error({ err }, 'msg')` would.
 */
const errorKey = 'err';
/** Where trailing values that are not fields go (Powertools Logger writes a string there). */
const extraKey = 'extra';

/**
 * The argument indices that a placeholder of the last {@link takenByPlaceholders} took but pino's
 * formatter did not print (`'95% full'`: `% ` takes one), `undefined` left out. Reused: the scan
 * runs on every call with arguments after its message, and allocates nothing unless one is found.
 */
const unprintedSlots: number[] = [];

/**
 * The arguments of a log call with those pino would drop made part of the line: `logger.error('msg',
 * err)` and `logger.info('msg', { orderId })`, the order of Powertools Logger, `console` and winston,
 * where pino reads extra arguments only for the message's printf placeholders and drops the rest
 * without a trace. Returned as the call pino writes them from, `[fields, message, ...placeholder
 * arguments]`:
 *
 * - placeholders take their arguments first, counted as pino's formatter counts them (`%%` takes
 *   none; `%` and any other character takes one), so the message is the one pino writes;
 * - of the rest, the first error (an `Error`, `AggregateError` included, or an object with a string
 *   `message` and `stack`, such as an error of another realm) goes under `err`, unless the line has
 *   one already; a plain object's fields are merged into the line, in order (a later one's field of
 *   the same name wins, as in a spread); `undefined` is left out (JSON has no such value); anything
 *   else — a string, number, boolean, `null`, array, `Date`, class instance, another error — goes
 *   under `extra`: the value when there is one, an array of them in order when there are several;
 * - an argument a placeholder took without printing it (`'%d'` given `null`, `'95% full'`) is kept
 *   where it is, so the message stays pino's, and made part of the line as well.
 *
 * Only when the message is a string: as the first argument, or the second after an object (then the
 * object's fields come first, as if spread). Any other call, and one with nothing left over, is
 * returned as it is, with no allocation.
 */
export function withTrailingArguments<Args extends unknown[]>(logger: Logger, args: Args): Args {
  if (args.length < 2) return args;
  const first = args[0];
  if (typeof first === 'string') return arranged(logger, args, 1, undefined);
  if (args.length === 2 || typeof first !== 'object' || typeof args[1] !== 'string') return args;
  return arranged(logger, args, 2, first);
}

/**
 * `args` (message at `from - 1`, placeholder arguments from `from`) rearranged as
 * {@link withTrailingArguments} says, or `args` itself when nothing is left over.
 */
function arranged<Args extends unknown[]>(
  logger: Logger,
  args: Args,
  from: number,
  first: object | null | undefined,
): Args {
  const message = args[from - 1] as string;
  // pino puts a child's `msgPrefix` before the message, then formats both.
  const prefix = logger.msgPrefix;
  const taken = takenByPlaceholders(typeof prefix === 'string' ? prefix + message : message, args, from);
  const end = from + taken;
  let leftOver = unprintedSlots.length > 0;
  for (let i = end; i < args.length && !leftOver; i++) leftOver = args[i] !== undefined;
  if (!leftOver) return args;

  // Copied before any getter of the arguments runs: one that logs would scan again.
  const unprinted = unprintedSlots.slice();
  const line = new LineFields(first, logger);
  for (const slot of unprinted) line.add(args[slot]);
  for (let i = end; i < args.length; i++) line.add(args[i]);
  // pino's formatter writes `%%` as it is when it has no argument, and as `%` when it has any: one
  // that no placeholder reads keeps the message as pino wrote it with all of them.
  const placeholderArguments =
    taken === 0 ? (message.includes('%') || prefix?.includes('%') ? [undefined] : []) : args.slice(from, end);
  return [line.fields(), message, ...placeholderArguments] as Args;
}

/**
 * How many arguments, from `args[from]`, pino's formatter (quick-format-unescaped) takes for the
 * placeholders of `text`: each `%` followed by a character takes the next one, whether it prints it
 * (`%s %d %i %f %j %o %O`) or not (any other character, `%d` given `null`), except `%%`, which
 * writes `%`; a `%` at the end takes none. Those taken without being printed are left in
 * {@link unprintedSlots}.
 */
function takenByPlaceholders(text: string, args: readonly unknown[], from: number): number {
  if (unprintedSlots.length > 0) unprintedSlots.length = 0;
  const available = args.length - from;
  const last = text.length - 1;
  let taken = 0;
  for (let i = text.indexOf('%'); i !== -1 && i < last && taken < available; i = text.indexOf('%', i + 1)) {
    const specifier = text.charCodeAt(i + 1);
    if (specifier === 0x25) {
      i++; // `%%`: the second `%` starts nothing
      continue;
    }
    const value = args[from + taken];
    if (value !== undefined && !printed(specifier, value)) unprintedSlots.push(from + taken);
    taken++;
  }
  return taken;
}

/** Whether pino's formatter writes `value` for the placeholder `%` + `specifier`. */
function printed(specifier: number, value: unknown): boolean {
  switch (specifier) {
    case 0x73: // s
      return true;
    case 0x64: // d
    case 0x66: // f
    case 0x69: // i
      return value != null;
    case 0x6a: // j
    case 0x4f: // O
    case 0x6f: // o
      return value !== undefined;
    default:
      return false;
  }
}

/** The fields a call's trailing arguments add to its line, gathered in order. */
class LineFields {
  readonly #fields: Record<string, unknown>;
  #error: unknown;
  #hasError = false;
  readonly #extra: unknown[] = [];
  readonly #messageKey: string;
  readonly #logger: Logger;

  /**
   * `first`: the call's own object, if any, which pino would write (an error under `err`);
   * `logger`: the one called, which says where the message goes and what its lines carry.
   */
  constructor(first: object | null | undefined, logger: Logger) {
    this.#logger = logger;
    this.#messageKey = messageKeyOf(logger);
    if (first === undefined || first === null) this.#fields = {};
    else if (first instanceof Error) this.#fields = { [errorKey]: first };
    // As pino does with a request or response logged first: under `req` or `res`, for their
    // serializers; spread, a request would put its raw header list and socket on the line.
    else if (isHttpRequest(first)) this.#fields = { req: first };
    else if (typeof (first as { setHeader?: unknown }).setHeader === 'function')
      this.#fields = { res: first };
    else {
      this.#fields = {};
      this.#merge(first);
    }
  }

  add(value: unknown): void {
    if (value === undefined) return;
    if (typeof value !== 'object' || value === null) {
      this.#extra.push(jsonValue(value));
      return;
    }
    try {
      if (isErrorLike(value)) {
        if (this.#hasError) this.#extra.push(serializeError(value));
        else {
          this.#error = value;
          this.#hasError = true;
        }
      } else if (isPlainObject(value)) this.#merge(withoutKitFields(value, this.#messageKey, this.#logger));
      else this.#extra.push(value);
    } catch {
      // A Proxy whose traps throw: its text, rather than a throw from a log call.
      this.#extra.push(describeThrown(value));
    }
  }

  fields(): Record<string, unknown> {
    const fields = this.#fields;
    const extra = this.#extra;
    if (this.#hasError) {
      if (fields[errorKey] === undefined) fields[errorKey] = this.#error;
      else extra.unshift(serializeError(this.#error));
    }
    if (extra.length > 0) {
      // A field of that name given by the call is kept too, first.
      if (fields[extraKey] !== undefined) extra.unshift(fields[extraKey]);
      fields[extraKey] = extra.length === 1 ? extra[0] : extra;
    }
    return fields;
  }

  #merge(value: object): void {
    try {
      Object.assign(this.#fields, value);
    } catch {
      this.#extra.push(describeThrown(value));
    }
  }
}

/** The message key of `logger` (`msg`, or `message` with Powertools' field names). */
function messageKeyOf(logger: Logger): string {
  const key: unknown = (logger as unknown as Record<symbol, unknown>)[pino.symbols.messageKeySym];
  return typeof key === 'string' ? key : 'msg';
}

/** The fields the kit writes on lines, which a trailing object may not replace where the line has them. */
const headFields = ['level', 'time'];
const boundFields = ['service', 'version', 'instance', 'region'];
const requestFields = ['requestId', 'traceId', 'spanId'];
const kitFieldsWarned = new Set<string>();

/**
 * Whether the line of `logger` carries `name` of its own: the head always; a field bound to it (a
 * child bound to a job's `requestId` too), read from `bindings` (the logger's, read once per object);
 * a request's `requestId`, and its `traceId` and `spanId` when traced, within it.
 */
function carries(bindings: () => Record<string, unknown>, name: string): boolean {
  if (headFields.includes(name)) return true;
  if (requestFields.includes(name)) {
    const context = getRequestContext();
    if (context !== undefined) {
      if (name === 'requestId') return true;
      if (name === 'traceId' ? context.traceId !== undefined : currentSpanId(context) !== undefined)
        return true;
    }
  }
  return Object.hasOwn(bindings(), name);
}

/**
 * `value` without the fields the kit writes itself (and the message's key): an object logged after
 * the message is often data the app did not write (`logger.info('update', req.body)`), and merged
 * whole it would give the line a second `msg`, or a `requestId` or `traceId` of the caller's
 * choosing, which most log tools would read in place of the kit's. Each name left out is said once
 * (`ARK_LOG_FIELD_RESERVED`), as Powertools Logger does. The call's own first object keeps them: it
 * is the app's.
 */
function withoutKitFields(value: object, messageKey: string, logger: Logger): object {
  let copy: Record<string, unknown> | undefined;
  let bound: Record<string, unknown> | undefined;
  const bindings = () => (bound ??= logger.bindings());
  for (const name of [messageKey, ...headFields, ...boundFields, ...requestFields]) {
    if (!Object.hasOwn(value, name) || (name !== messageKey && !carries(bindings, name))) continue;
    copy ??= { ...value };
    delete copy[name];
    if (kitFieldsWarned.has(name)) continue;
    kitFieldsWarned.add(name);
    process.emitWarning(
      `A field "${name}" of an object logged after the message was left out: the kit writes "${name}" itself on that line, and that object, often data from a request, may not replace it. Log it under a key of its own (logger.info('msg', { body })); this is said once.`,
      { code: 'ARK_LOG_FIELD_RESERVED' },
    );
  }
  return copy ?? value;
}

/** What pino takes for a request logged as the first argument (`logger.info(req, 'msg')`). */
function isHttpRequest(value: object): boolean {
  const { method, headers, socket } = value as { method?: unknown; headers?: unknown; socket?: unknown };
  return Boolean(method) && Boolean(headers) && Boolean(socket);
}

/**
 * An error to write under `err`: an `Error` (an `AggregateError` too), or an object with a string
 * `message` and `stack`, such as an error from another realm (a `vm` context, a worker's structured
 * clone), which `instanceof` misses. Merged as fields, its `message` would stand beside the line's
 * own (under `messageKey: 'message'`, in its place).
 */
function isErrorLike(value: object): boolean {
  if (value instanceof Error) return true;
  const { message, stack } = value as { message?: unknown; stack?: unknown };
  return typeof message === 'string' && typeof stack === 'string';
}

/**
 * An object written as `{ … }` (of any realm), or one without a prototype: fields for the line.
 * An instance of a class (a `Date`, a `URL`, an entity) or an array is a value, kept whole under
 * `extra`: its own fields merged would lose a `Date` altogether and mix an entity's with the line's.
 */
export function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/** `value` as JSON can write it: a symbol or function would be left out of the line silently. */
function jsonValue(value: unknown): unknown {
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return `[Function: ${value.name || 'anonymous'}]`;
  return value;
}
