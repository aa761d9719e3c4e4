import type { Logger } from 'pino';
import { getRequestContext } from '../http/context.js';
import { reportRequestError } from '../http/request-errors.js';
import { createLogger } from './logger.js';

/**
 * NestJS's `LoggerService`, as `app.useLogger()` and `NestFactory.create(M, { logger })` take it.
 * Declared here by shape: the kit imports nothing from `@nestjs/common`.
 */
export interface NestLoggerService {
  /** Nest's `log`: an `info` line. */
  log(message: unknown, ...optionalParams: unknown[]): void;
  /** An `error` line; Nest passes `(message, stack?, context?)`, or the error itself. */
  error(message: unknown, ...optionalParams: unknown[]): void;
  /** A `warn` line. */
  warn(message: unknown, ...optionalParams: unknown[]): void;
  /** A `debug` line. */
  debug(message: unknown, ...optionalParams: unknown[]): void;
  /** Nest's `verbose`: a `trace` line. */
  verbose(message: unknown, ...optionalParams: unknown[]): void;
  /** A `fatal` line. */
  fatal(message: unknown, ...optionalParams: unknown[]): void;
}

/** The pino logger behind a {@link nestLogger}, which the kit adopts as its own (see nest.ts). */
export const nestLoggerTarget: unique symbol = Symbol.for('apprunner-kit.nestLoggerTarget');

type Level = 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal';

/** The context Nest's exception filter logs with, when a route's error is answered 500. */
const exceptionsHandler = 'ExceptionsHandler';

/** A stack as Nest hands it over: `Error: message` followed by `    at …` frames. */
const stackPattern = /\n\s+at /;

function isError(value: unknown): value is Error {
  return value instanceof Error;
}

/**
 * An error made of a stack Nest passed as a string: its type and message read from the stack's first
 * line, else the line's message.
 */
function errorOfStack(stack: string, message: string | undefined): Error {
  const head = /^([A-Za-z_$][\w$]*):\s?(.*)$/m.exec(stack.slice(0, stack.search(stackPattern)));
  const error = new Error(head?.[2] ?? message ?? '');
  if (head !== null) error.name = head[1]!;
  error.stack = stack;
  return error;
}

/** A plain object (`{…}`, or made without a prototype), whose fields a line takes; not a Date, a Map… */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === null || prototype === Object.prototype;
}

/**
 * A message given as a function, as Nest's `ConsoleLogger` reads it: a class by its name, another
 * function by what it returns (a message built only when written); one that throws, by its error.
 */
function resolveMessage(message: (...args: never[]) => unknown): unknown {
  let value: unknown = message;
  // A function that returns a function is read again, as Nest does; a few times at most.
  for (let depth = 0; depth < 4 && typeof value === 'function'; depth++) {
    if (Function.prototype.toString.call(value).startsWith('class ')) return (value as { name: string }).name;
    try {
      value = (value as () => unknown)();
    } catch (error) {
      return error;
    }
  }
  return value;
}

/**
 * Turns one call of Nest's into a pino line: the message (a string, an error, a function Nest would
 * call, or a plain object whose fields the line takes), and the parameters after it as Nest's
 * `ConsoleLogger` reads them. The last string is the `context` (Nest's `Logger` adds its own at the
 * end); a string that is a stack becomes `err` on `error` and `fatal` (dropped when it is the stack
 * of the error already there: `logger.error(err, err.stack)`). An error anywhere becomes `err`; a
 * plain object's fields join the line, never over `context` or the message; any other value goes to
 * `params`.
 */
export function nestLine(
  level: Level,
  message: unknown,
  optionalParams: readonly unknown[],
): { fields: Record<string, unknown>; msg: string | undefined } {
  const fields: Record<string, unknown> = {};
  const rest = optionalParams.filter((param) => param !== undefined);
  const last = rest.at(-1);
  // Nest's own calls are (message, stack, context) and (message, stack): a stack is never the context.
  const context = typeof last === 'string' && !stackPattern.test(last) ? last : undefined;
  if (context !== undefined) rest.pop();
  const given = typeof message === 'function' ? resolveMessage(message as () => unknown) : message;
  let msg: string | undefined;
  if (isError(given)) {
    fields.err = given;
    msg = given.message;
  } else if (isPlainObject(given)) Object.assign(fields, given);
  else if (given !== undefined && (typeof given !== 'object' || given === null)) msg = String(given);
  // Another object (a Date, a Map, an array) is written as pino writes a value: first in `params`.
  const params: unknown[] =
    typeof given === 'object' && given !== null && !isError(given) && !isPlainObject(given) ? [given] : [];
  for (const param of rest) {
    if (isError(param) && fields.err === undefined) fields.err = param;
    else if (typeof param === 'string' && stackPattern.test(param)) {
      if (fields.err === undefined)
        fields.err = level === 'error' || level === 'fatal' ? errorOfStack(param, msg) : param;
      else if ((fields.err as Error).stack !== param) params.push(param);
    } else if (isPlainObject(param)) {
      for (const [key, value] of Object.entries(param)) {
        if (key === 'context' || (key === 'msg' && msg !== undefined)) continue;
        fields[key] = value;
      }
    } else params.push(param);
  }
  if (context !== undefined) fields.context = context;
  if (params.length > 0) fields.params = params;
  return { fields, msg };
}

/**
 * A NestJS `LoggerService` that writes through the kit's logger: Nest's own lines (route mapping,
 * start-up) and those of every `new Logger(context)` become JSON lines with the request id and trace
 * id of the request they are written in. `log` is `info`, `verbose` is `trace`; the context Nest
 * passes last is the `context` field; a stack Nest passes as a string becomes `err`, with its type
 * and message. An error Nest's exception filter answers 500 (context `ExceptionsHandler`) is recorded
 * on its request: the request line carries it as `err` and the trace is marked as a fault, instead of
 * a line of its own.
 *
 * Give the same logger to `bootstrapAppRunner` and Nest and they write one stream of lines: without
 * `logger`, one `createLogger()` builds, which the kit adopts when given the Nest app.
 *
 * @param logger The pino logger to write through (one `createLogger` built, or `runtime.logger`); a
 * new `createLogger()` when left out.
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`), without `logger`, when a variable
 * `createLogger` reads (`LOG_LEVEL`, …) is not valid.
 *
 * @example
 * ```ts
 * import { NestFactory } from '@nestjs/core';
 * import { bootstrapAppRunner } from 'apprunner-kit';
 * import { nestLogger } from 'apprunner-kit/nest';
 *
 * const app = await NestFactory.create(AppModule, { bufferLogs: true });
 * app.useLogger(nestLogger());
 * await bootstrapAppRunner({ app });
 * ```
 */
export function nestLogger(logger: Logger = createLogger()): NestLoggerService {
  const write = (level: Level, message: unknown, optionalParams: unknown[]): void => {
    const { fields, msg } = nestLine(level, message, optionalParams);
    if (
      level === 'error' &&
      fields.context === exceptionsHandler &&
      fields.err !== undefined &&
      getRequestContext() !== undefined &&
      reportRequestError(fields.err)
    )
      return;
    if (msg === undefined) logger[level](fields);
    else logger[level](fields, msg);
  };
  return {
    [nestLoggerTarget]: logger,
    log: (message, ...optionalParams) => write('info', message, optionalParams),
    error: (message, ...optionalParams) => write('error', message, optionalParams),
    warn: (message, ...optionalParams) => write('warn', message, optionalParams),
    debug: (message, ...optionalParams) => write('debug', message, optionalParams),
    verbose: (message, ...optionalParams) => write('trace', message, optionalParams),
    fatal: (message, ...optionalParams) => write('fatal', message, optionalParams),
  } as NestLoggerService;
}
