import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { defaultMaxLineBytes, fitLine, type MessageKey } from './line-limit.js';
import type { RedactionRegistry } from './redaction.js';

/**
 * pino-pretty, when `mode` allows it, stdout is a terminal and the app has `pino-pretty`
 * installed; `undefined` otherwise. Never on a pipe: App Runner and CloudWatch get JSON.
 */
export function prettyDestination(
  mode: boolean | 'auto',
  isTTY: boolean,
  cwd: string,
  messageKey: MessageKey = 'msg',
): DestinationStream | undefined {
  if (mode === false || (mode === 'auto' && !isTTY)) return undefined;
  try {
    // Resolved from the app's own directory: pino-pretty is the app's (dev) dependency, not the kit's.
    const pretty = createRequire(join(cwd, 'package.json'))('pino-pretty') as (
      options: object,
    ) => DestinationStream;
    return pretty({ sync: true, colorize: isTTY, messageKey });
  } catch {
    return undefined; // not installed: JSON it is
  }
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
