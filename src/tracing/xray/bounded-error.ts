/**
 * The longest exception message recorded, in UTF-16 code units: a ZodError's message is its issues as
 * indented JSON, tens of KB; the document it goes into has 64 KB in all.
 */
export const maxExceptionMessage = 2_048;

/**
 * The most stack frames recorded for one exception. V8 captures 10 unless `Error.stackTraceLimit` is
 * raised; the X-Ray SDK for Java keeps 50, the one for Node.js has no limit.
 */
export const maxStackFrames = 50;

/** An error as the X-Ray SDK's `CapturedException` reads it, bounded; the frames left out counted. */
export interface BoundedError {
  readonly name: string;
  readonly message: string;
  /** A first line (the SDK skips it), then one `at …` line per frame kept. */
  readonly stack: string | undefined;
  /** Frames beyond {@link maxStackFrames}, for the exception's `truncated` field. */
  readonly omittedFrames: number;
}

/** The bounded form of each error recorded: the same error gives the same object, as the SDK needs. */
const bounded = new WeakMap<Error, BoundedError>();

const frameLine = /^\s*at\s/;

/**
 * `text` cut to `max` UTF-16 code units, never between the two halves of a surrogate pair, with a
 * marker saying how much was cut; `text` itself when it is short enough.
 *
 * @example
 * ```ts
 * cutText('x'.repeat(5000), 2048); // 'xxx…x… [2952 characters cut]'
 * ```
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}… [${text.length - end} characters cut]`;
}

/**
 * The `at …` lines of `stack`, and how many lines follow its first (the SDK makes a frame of each).
 * The first line is V8's header, `Name: message`, and a message of several lines makes a header of
 * several: the SDK made a frame of each of its lines too (a 2 KB message, 111 frames). The frames are
 * looked for after the message, when the stack holds it.
 */
function framesOf(stack: string, message: string): { frames: string[]; lines: number } {
  let lines = 0;
  for (let at = stack.indexOf('\n'); at !== -1; at = stack.indexOf('\n', at + 1)) lines += 1;
  const inStack = message === '' ? -1 : stack.indexOf(message);
  const from = inStack === -1 ? stack.indexOf('\n') : inStack + message.length;
  if (from === -1) return { frames: [], lines };
  const frames = stack
    .slice(from)
    .split('\n')
    .filter((line) => frameLine.test(line));
  return { frames, lines };
}

/**
 * What the X-Ray SDK is given to record `error`: the error itself when its message is at most
 * {@link maxExceptionMessage} long and its stack is a header of one line and at most
 * {@link maxStackFrames} frames; else its name, its message cut by {@link cutText}, and a stack of
 * its real frames only, the first {@link maxStackFrames} of them. The same error always gives the
 * same object: the SDK recognises an error a subsegment recorded when its segment records it too,
 * by identity, and then points at it rather than recording it twice.
 *
 * @throws whatever reading `error`'s `message`, `name` or `stack` throws (a getter).
 * @example
 * ```ts
 * segment.addError(boundedError(zodError));
 * ```
 */
export function boundedError(error: Error): Error | BoundedError {
  const known = bounded.get(error);
  if (known !== undefined) return known;
  const raw = error.message as unknown;
  const message = typeof raw === 'string' ? raw : String(raw);
  const stack = error.stack as unknown;
  const { frames, lines } = typeof stack === 'string' ? framesOf(stack, message) : { frames: [], lines: 0 };
  const fits = message.length <= maxExceptionMessage && frames.length === lines && lines <= maxStackFrames;
  if (fits && typeof raw === 'string') {
    return error;
  }
  const name = typeof error.name === 'string' ? error.name : '';
  const kept = frames.slice(0, maxStackFrames);
  const record: BoundedError = {
    name,
    message: cutText(message, maxExceptionMessage),
    // The SDK drops the first line, as it would V8's header.
    stack: typeof stack === 'string' ? [name, ...kept].join('\n') : undefined,
    omittedFrames: frames.length - kept.length,
  };
  bounded.set(error, record);
  return record;
}
