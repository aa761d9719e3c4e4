import { inspect } from 'node:util';
import type { Level, Logger } from 'pino';
import { describeThrown } from './serializers.js';
import { withTrailingArguments } from './trailing-arguments.js';

/**
 * Whether pino would take a symbol for the call's message (`logger.info(Symbol('s'))`,
 * `logger.info({ a: 1 }, Symbol())`), which it writes as `"msg":undefined`: not JSON. Two `typeof`
 * checks, cheap enough for every call.
 */
export function hasSymbolMessage(args: readonly unknown[]): boolean {
  const first = args[0];
  if (typeof first === 'symbol') return true;
  return typeof args[1] === 'symbol' && (first === undefined || typeof first === 'object');
}

/** `args` with its symbols as their text (`Symbol(s)`), as `console.log` prints them. */
export function withSymbolsAsText<Args extends unknown[]>(args: Args): Args {
  return args.map((value) => (typeof value === 'symbol' ? value.toString() : value)) as Args;
}

/** What a line says of a log call that could not be written as it was made. */
const serializationErrorKey = 'serializationError';

/**
 * The arguments of a log call that threw in pino (a getter of its object that throws, a
 * placeholder's argument that cannot be made text: a `null`-prototype object for `%s`, such as
 * Express 5's `req.query`, a symbol for `%d`), made writable: `[fields, message]`, the fields its
 * own that could be read, the placeholders given the `console.log` text of their arguments, and
 * `serializationError`, the message of what was thrown. What the kit does with the arguments pino
 * would drop ({@link withTrailingArguments}) is done first, as on any call.
 */
export function writableArguments(logger: Logger, args: unknown[], thrown: unknown): unknown[] {
  let arranged: unknown[];
  try {
    arranged = withTrailingArguments(logger, withSymbolsAsText(args));
  } catch {
    arranged = args;
  }
  const [first, ...rest] = arranged;
  const hasObject = first === undefined || first === null || typeof first === 'object';
  const fields = hasObject ? readableFields(first) : {};
  const message = hasObject ? rest.shift() : first;
  fields[serializationErrorKey] = describeThrown(thrown);
  return message === undefined ? [fields] : [fields, formatted(message, rest)];
}

/** The line written for a call whose writable arguments threw too. */
export function unwritableCallArguments(thrown: unknown): unknown[] {
  return [{ [serializationErrorKey]: describeThrown(thrown) }, 'a log call could not be written'];
}

/** The own fields of `value` that can be read; an error under `err`, as pino writes it. */
function readableFields(value: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (value === undefined || value === null) return fields;
  let keys: string[];
  try {
    if (value instanceof Error) {
      fields.err = value;
      return fields;
    }
    keys = Object.keys(value);
  } catch {
    return fields;
  }
  for (const key of keys) {
    try {
      fields[key] = (value as Record<string, unknown>)[key];
    } catch {
      // A getter that throws: its field is left out; `serializationError` says why.
    }
  }
  return fields;
}

/** `message` with its placeholders filled as pino would, each argument given as its text. */
function formatted(message: unknown, placeholderArguments: readonly unknown[]): string {
  const text = typeof message === 'string' ? message : describeThrown(message);
  if (placeholderArguments.length === 0) return text;
  let next = 0;
  return text.replace(/%([\s\S])/g, (match, specifier: string) => {
    if (specifier === '%') return '%';
    if (next >= placeholderArguments.length) return match;
    return printable(placeholderArguments[next++]);
  });
}

/** `value` as `console.log` prints it, never throwing. */
function printable(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return inspect(value, { breakLength: Number.POSITIVE_INFINITY, depth: 2 });
  } catch {
    return describeThrown(value);
  }
}

/** pino's `logMethod` hook, as the kit's loggers install it. */
export type LogMethodHook = (
  this: Logger,
  args: Parameters<Logger[Level]>,
  method: Logger[Level],
  numeric: number,
) => void;

let destinationFailureReported = false;

/** Says once on stderr, past the logger, that its destination throws: its lines are lost. */
function reportUnwritableDestination(thrown: unknown): void {
  if (destinationFailureReported) return;
  destinationFailureReported = true;
  try {
    process.stderr.write(
      `apprunner-kit: the log destination throws (${describeThrown(thrown)}): log lines are lost; check logging.destination\n`,
    );
  } catch {
    // stderr is gone too: nothing is left to say it with.
  }
}

/**
 * `hook`, made so that a log call never throws into the app nor writes a line that is not JSON:
 * a symbol for a message becomes its text; a call that throws in pino (a getter of its object that
 * throws, a `null`-prototype object for `%s`) is made again with what can be written and
 * `serializationError` ({@link writableArguments}), and if that throws too, as one line that says
 * so. A `try` costs the calls that do not throw nothing measurable in V8 (bench/logging/log-call).
 */
export function guarded(hook: LogMethodHook): LogMethodHook {
  return function logMethod(this: Logger, args, method, numeric) {
    try {
      hook.call(this, hasSymbolMessage(args) ? withSymbolsAsText(args) : args, method, numeric);
    } catch (thrown) {
      try {
        hook.call(this, writableArguments(this, args, thrown) as typeof args, method, numeric);
      } catch (again) {
        try {
          hook.call(this, unwritableCallArguments(again) as typeof args, method, numeric);
        } catch (last) {
          // The destination itself throws: the app goes on, and stderr says so once.
          reportUnwritableDestination(last);
        }
      }
    }
  };
}
