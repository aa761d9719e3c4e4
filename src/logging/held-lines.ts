import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DestinationStream, type Logger, pino } from 'pino';
import {
  durationSlot,
  failedDespiteStatus,
  getMutableRequestContext,
  type MutableRequestContext,
  requestDurationMs,
  responseUnfinished,
} from '../http/context.js';
import { processGlobal } from '../internal/process-global.js';
import { wrapDestination } from './destination.js';

/** A level {@link LogBufferOptions.level} takes: never `error` or `fatal`, which are what a flush is for. */
export type HeldLevel = 'trace' | 'debug' | 'info' | 'warn';

const heldLevels: readonly HeldLevel[] = ['trace', 'debug', 'info', 'warn'];

/**
 * Log buffering (`logging.buffer`, `createLogger({ buffer })`): the lines a request writes that the
 * logger's level leaves out, up to `level`, are held back, and written only if the request fails (a
 * 5xx response, the client gone before the response finished, or an error reported on a response
 * below 400), when it logs an `error` line, or
 * when the app calls {@link flushRequestLogs}; otherwise they are dropped when the request ends. The
 * detail of the requests that go wrong, without paying for the detail of those that go right.
 */
export interface LogBufferOptions {
  /**
   * The highest level held back: a line the logger's level leaves out, at this level or below and
   * written within a request, waits. What the level lets through is written as usual; lines outside
   * any request are never held.
   * @default 'debug'
   */
  level?: HeldLevel;
  /**
   * Bytes held per request, from 1,024 to 1,048,576: past it the oldest lines are dropped, and the
   * flush says how many with a `warn` line before the rest.
   * @default 20480
   */
  maxBytes?: number;
  /**
   * Write what a request holds when it logs an `error` or `fatal` line, just before that line.
   * @default true
   */
  flushOnError?: boolean;
}

/** {@link LogBufferOptions} validated, with its defaults. */
export interface LogBufferSettings {
  /** pino's number of the highest level held. */
  readonly threshold: number;
  readonly maxBytes: number;
  readonly flushOnError: boolean;
}

/** The bounds of {@link LogBufferOptions.maxBytes}. */
export const logBufferBytes = Object.freeze({ default: 20_480, min: 1_024, max: 1_048_576 });

/** Throws the error of whoever validates: a configuration error, or an argument error. */
export type Refuse = (field: string, value: unknown, accepted: string) => never;

/**
 * `value` as {@link LogBufferSettings}: `true` or an object turns buffering on, `false` or
 * `undefined` leaves it off. `refuse` names `field` and what is accepted when `value` is bad.
 */
export function resolveLogBuffer(
  value: unknown,
  field: string,
  refuse: Refuse,
): LogBufferSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) value = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    refuse(field, value, 'true, false, or an object such as { level: "debug", maxBytes: 20480 }');
  const { level, maxBytes, flushOnError, ...rest } = value as Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined)
    refuse(
      `${field}.${unknownKey}`,
      rest[unknownKey],
      'no such option (known: level, maxBytes, flushOnError)',
    );
  if (level !== undefined && !(heldLevels as readonly unknown[]).includes(level))
    refuse(`${field}.level`, level, `one of ${heldLevels.map((l) => `"${l}"`).join(', ')}`);
  if (
    maxBytes !== undefined &&
    !(
      typeof maxBytes === 'number' &&
      Number.isInteger(maxBytes) &&
      maxBytes >= logBufferBytes.min &&
      maxBytes <= logBufferBytes.max
    )
  )
    refuse(`${field}.maxBytes`, maxBytes, `an integer from ${logBufferBytes.min} to ${logBufferBytes.max}`);
  if (flushOnError !== undefined && typeof flushOnError !== 'boolean')
    refuse(`${field}.flushOnError`, flushOnError, 'true or false');
  return Object.freeze({
    threshold: pino.levels.values[(level as HeldLevel | undefined) ?? 'debug']!,
    maxBytes: (maxBytes as number | undefined) ?? logBufferBytes.default,
    flushOnError: (flushOnError as boolean | undefined) ?? true,
  });
}

/**
 * Where a request context keeps its held lines, from its first held line (shared by both builds).
 * Nothing is held once the response has ended, which the context records already: its duration is
 * measured then (see {@link ended}). A marker of its own would add a property to every context.
 */
const heldSlot: unique symbol = Symbol.for('apprunner-kit.heldLines.v1');

type HoldingContext = MutableRequestContext & { [heldSlot]?: HeldLines };

/** Whether `context`'s response has ended: {@link endHeldLines} measures its duration, if nothing did before. */
function ended(context: MutableRequestContext): boolean {
  return context[durationSlot] !== undefined;
}

// Whether any logger of the process holds lines, and who waits for the first one: the end of a
// request has something to do only then, and until then no request pays for it.
const inUse = processGlobal('heldLinesInUse.v1', () => ({
  value: false,
  waiting: new Set<() => void>(),
}));

/**
 * Calls `start` once a logger of the process holds lines: now if one does, else when the first is
 * built. `start` returns the function that undoes it; the function returned here cancels a call
 * still to come, or undoes the one made.
 */
export function whenLinesHeld(start: () => () => void): () => void {
  if (inUse.value) return start();
  let undo: (() => void) | undefined;
  const run = () => {
    undo = start();
  };
  inUse.waiting.add(run);
  return () => {
    inUse.waiting.delete(run);
    undo?.();
  };
}

/** One held line, with its size in bytes and the destination it was meant for. */
interface HeldLine {
  readonly line: string;
  readonly size: number;
  readonly out: DestinationStream;
}

/** The lines one request holds, oldest first. */
class HeldLines {
  #lines: HeldLine[] = [];
  #bytes = 0;
  #dropped = 0;
  #maxBytes = 0;
  /** The logger of the first held line: it writes the line that says what was dropped. */
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Holds `line`, for `out`; the request holds up to the largest `maxBytes` of its loggers. */
  hold(out: DestinationStream, line: string, maxBytes: number): void {
    if (maxBytes > this.#maxBytes) this.#maxBytes = maxBytes;
    const size = Buffer.byteLength(line);
    if (size > this.#maxBytes) {
      this.#dropped++;
      return;
    }
    this.#lines.push({ line, size, out });
    this.#bytes += size;
    while (this.#bytes > this.#maxBytes) {
      this.#bytes -= this.#lines.shift()!.size;
      this.#dropped++;
    }
  }

  /** Forgets the held lines; returns them. */
  clear(): HeldLine[] {
    const lines = this.#lines;
    this.#lines = [];
    this.#bytes = 0;
    this.#dropped = 0;
    return lines;
  }

  /** Writes the held lines, oldest first, after a line saying how many were dropped (if any). */
  flush(context: Pick<MutableRequestContext, 'requestId' | 'traceId'>): void {
    const dropped = this.#dropped;
    const lines = this.clear();
    if (dropped > 0) {
      passing = true;
      try {
        this.#logger.warn(
          {
            requestId: context.requestId,
            traceId: context.traceId,
            heldLinesDropped: dropped,
            maxBytes: this.#maxBytes,
          },
          `${dropped === 1 ? 'a held line' : `${dropped} held lines`} of this request dropped: more than logging.buffer.maxBytes (${this.#maxBytes}) were held; raise it to keep more`,
        );
      } finally {
        passing = false;
      }
    }
    for (const { line, out } of lines) out.write(line);
  }
}

// The request whose line is held rather than written, and the holding logger's limit: set by
// holdLine around one pino call, which writes its line to the destination synchronously.
let capturing: HeldLines | undefined;
let capturingLimit = 0;
// True while a flush writes its warning: that line is written whatever the level.
let passing = false;

/**
 * The destination a holding logger writes to: `out`, except for the line of a call that
 * {@link holdLine} makes, which goes to the request's held lines.
 */
export function holdingDestination(out: DestinationStream): DestinationStream {
  if (!inUse.value) {
    inUse.value = true;
    for (const start of inUse.waiting) start();
    inUse.waiting.clear();
  }
  return wrapDestination(out, (line) => {
    if (capturing === undefined) return out.write(line);
    capturing.hold(out, line, capturingLimit);
    return true;
  });
}

/** Whether lines written now in `context` may be held: its response has not ended. */
export function holds(context: MutableRequestContext): boolean {
  return !ended(context);
}

/** Whether the line being logged is a flush's own warning, written whatever the level. */
export function flushWarning(): boolean {
  return passing;
}

/** Makes one pino call whose line goes to `context`'s held lines. */
export function holdLine(
  context: MutableRequestContext,
  logger: Logger,
  maxBytes: number,
  method: (...args: never[]) => void,
  args: unknown[],
): void {
  const previous = capturing;
  const previousLimit = capturingLimit;
  capturing = (context as HoldingContext)[heldSlot] ??= new HeldLines(logger);
  capturingLimit = maxBytes;
  try {
    method.apply(logger, args as never[]);
  } finally {
    capturing = previous;
    capturingLimit = previousLimit;
  }
}

/**
 * Makes one pino call whose line is written: the same call as pino's, unless it comes from the
 * serialisation of a line being held (a `toJSON` or serializer that logs), which must not hold it.
 */
export function writeLine(logger: Logger, method: (...args: never[]) => void, args: unknown[]): void {
  if (capturing === undefined) {
    method.apply(logger, args as never[]);
    return;
  }
  const previous = capturing;
  capturing = undefined;
  try {
    method.apply(logger, args as never[]);
  } finally {
    capturing = previous;
  }
}

/** Writes the lines `context` holds, if any. */
export function flushHeldLines(context: MutableRequestContext): void {
  (context as HoldingContext)[heldSlot]?.flush(context);
}

/**
 * The request scope's first finish hook once a logger holds lines ({@link whenLinesHeld}): the
 * lines of a request that failed (a 5xx response, the client gone before it finished, or an error
 * reported on a response below 400: the request line's `request failed` and `request aborted`) are
 * written, before its request line; those of any
 * other are dropped. After this, the request holds nothing more: its late lines follow the logger's
 * level.
 */
export function endHeldLines(
  context: MutableRequestContext,
  _req: IncomingMessage,
  res: ServerResponse,
): void {
  requestDurationMs(context); // the response has ended: nothing is held from now on
  const held = (context as HoldingContext)[heldSlot];
  if (held === undefined) return;
  if (responseUnfinished(res) || res.statusCode >= 500 || failedDespiteStatus(context, res))
    held.flush(context);
  else held.clear(); // nothing keeps them, should the context outlive its request
}

/**
 * Writes now the lines the current request holds (`logging.buffer`), as a failure would: for an
 * outcome the kit does not count as one (a 4xx you want to look into, an error you caught and
 * answered with a 200). Lines written later in the request are held again.
 *
 * @returns `true` within a request whose lines are held (even when it held none yet); `false`
 * outside any request, after its response ended, or when no logger holds lines.
 *
 * @example
 * ```ts
 * import { flushRequestLogs } from 'apprunner-kit';
 *
 * app.use((err, req, res, next) => {
 *   if (err.status === 409) flushRequestLogs(); // keep the debug lines of a conflict
 *   next(err);
 * });
 * ```
 */
export function flushRequestLogs(): boolean {
  const context = getMutableRequestContext();
  if (!inUse.value || context === undefined || ended(context)) return false;
  flushHeldLines(context);
  return true;
}
