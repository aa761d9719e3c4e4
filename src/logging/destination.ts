import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import { processGlobal } from '../internal/process-global.js';
import { defaultMaxLineBytes, fitLine, type MessageKey } from './line-limit.js';
import type { RedactionRegistry } from './redaction.js';

/**
 * The directories `pino-pretty` is looked for from, in order: the app's entry's (`process.argv[1]`),
 * whose `node_modules` are the app's, then the working directory. From the working directory alone,
 * an app started from elsewhere (`cd /tmp && node /srv/app/server.mjs`, a monorepo's root) wrote
 * JSON to the terminal with pino-pretty installed beside it.
 */
export function appDirectories(entry: string | undefined, cwd: string): string[] {
  const directories = entry !== undefined && isAbsolute(entry) ? [dirname(entry)] : [];
  if (!directories.includes(cwd)) directories.push(cwd);
  return directories;
}

/** What {@link prettyDestination} found. */
export interface PrettyOutput {
  /** pino-pretty's stream, when it is wanted and installed. */
  readonly destination: DestinationStream | undefined;
  /** stdout is a terminal, pino-pretty is wanted there, and it is installed nowhere it was looked for. */
  readonly missing: boolean;
}

/**
 * pino-pretty, when `mode` allows it, stdout is a terminal and the app has `pino-pretty` installed
 * (looked for from each of `from` in turn, see {@link appDirectories}); no destination otherwise.
 * Never on a pipe: App Runner and CloudWatch get JSON.
 */
export function prettyDestination(
  mode: boolean | 'auto',
  isTTY: boolean,
  from: readonly string[],
  messageKey: MessageKey = 'msg',
): PrettyOutput {
  if (mode === false || (mode === 'auto' && !isTTY)) return { destination: undefined, missing: false };
  for (const directory of from) {
    try {
      // The app's (dev) dependency, not the kit's.
      const pretty = createRequire(join(directory, 'package.json'))('pino-pretty') as (
        options: object,
      ) => DestinationStream;
      return { destination: pretty({ sync: true, colorize: isTTY, messageKey }), missing: false };
    } catch {
      // Not installed there: the next directory, else JSON.
    }
  }
  return { destination: undefined, missing: isTTY };
}

const prettyHint = processGlobal('prettyHint.v1', () => ({ written: false }));

/**
 * Says once per process, through `logger`, that pino-pretty would make the lines readable: JSON on a
 * terminal otherwise reads as if the kit did not mean it to be read there.
 */
export function hintPretty(logger: Logger): void {
  if (prettyHint.written) return;
  prettyHint.written = true;
  logger.info(
    'stdout is a terminal and pino-pretty is not installed beside the app: npm i -D pino-pretty gives readable lines instead of JSON (logging.pretty: false keeps JSON, without this line)',
  );
}

/**
 * Wraps `destination` so that every line is masked by `registry`, then kept to `maxLineBytes`
 * ({@link fitLine}), before it is written.
 */
export function redactingDestination(
  destination: DestinationStream,
  registry: RedactionRegistry,
  maxLineBytes: number = defaultMaxLineBytes,
  messageKey: MessageKey = 'msg',
): DestinationStream {
  return wrapDestination(destination, (line) =>
    destination.write(fitLine(registry.mask(line), maxLineBytes, messageKey)),
  );
}

/** A destination that writes with `write`, and flushes `target` (when it can be flushed). */
export function wrapDestination(
  target: DestinationStream,
  write: (line: string) => unknown,
): DestinationStream {
  const flushable = target as DestinationStream & {
    flush?: (cb?: (error?: Error) => void) => void;
    flushSync?: () => void;
  };
  const wrapped: DestinationStream & { flush?: unknown; flushSync?: unknown } = { write };
  if (typeof flushable.flush === 'function') wrapped.flush = flushable.flush.bind(target);
  if (typeof flushable.flushSync === 'function') wrapped.flushSync = flushable.flushSync.bind(target);
  return wrapped;
}
